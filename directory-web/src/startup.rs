//! Building and running the website: binds first, so callers learn the real port.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Instant;

use actix_web::dev::{Server, ServerHandle, Service as _};
use actix_web::middleware::DefaultHeaders;
use actix_web::{App, HttpServer, web};

use crate::api::Api;
use crate::clock::{Clock, SystemClock};
use crate::config::Settings;
use crate::error::WebError;
use crate::metrics::Metrics;
use crate::routes;
use crate::token::AppToken;

/// The Content-Security-Policy of every page: nothing but the site's own stylesheet; no
/// scripts at all, no framing, forms only to the site itself.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// What every handler shares.
pub struct WebState {
    /// The directory API.
    pub api: Api,
    /// The site's own token.
    pub token: AppToken,
    /// The site's client id (shown on pages).
    pub client_id: String,
    /// The authorization server's issuer.
    pub issuer: String,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// Metrics.
    pub metrics: Metrics,
}

/// A built, bound, not yet running website.
pub struct Application {
    server: Server,
    address: SocketAddr,
}

impl Application {
    /// Builds the website on the system clock.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        Self::build_with_clock(settings, Arc::new(SystemClock)).await
    }

    /// Builds the website. It starts even when the API or the authorization server is down:
    /// its pages then say so with a 503.
    pub async fn build_with_clock(
        settings: Settings,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Self> {
        settings.validate()?;
        let metrics = Metrics::new();
        let token = AppToken::new(
            &settings.issuer,
            &settings.client_id,
            &settings.client_secret,
            settings.token_renew_before_secs,
            clock.clone(),
            metrics.app_token_requests.clone(),
        )?;
        let state = web::Data::new(WebState {
            api: Api::new(&settings.api_url)?,
            token,
            client_id: settings.client_id.clone(),
            issuer: settings.issuer.clone(),
            clock,
            metrics: metrics.clone(),
        });
        let listener = TcpListener::bind(settings.bind)
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", settings.bind))?;
        let address = listener.local_addr()?;
        let workers = settings
            .workers
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        let server = HttpServer::new(move || {
            let metrics = metrics.clone();
            App::new()
                .app_data(state.clone())
                .wrap(
                    DefaultHeaders::new()
                        .add(("Content-Security-Policy", CONTENT_SECURITY_POLICY))
                        .add(("X-Content-Type-Options", "nosniff"))
                        .add(("X-Frame-Options", "DENY"))
                        .add(("Referrer-Policy", "no-referrer"))
                        .add(("Cross-Origin-Opener-Policy", "same-origin"))
                        .add((
                            "Permissions-Policy",
                            "camera=(), microphone=(), geolocation=()",
                        )),
                )
                .wrap_fn(move |req, srv| {
                    let start = Instant::now();
                    let route = req
                        .match_pattern()
                        .unwrap_or_else(|| "unmatched".to_owned());
                    let method = req.method().to_string();
                    let metrics = metrics.clone();
                    let response = srv.call(req);
                    async move {
                        let response = response.await?;
                        metrics.observe(
                            &route,
                            &method,
                            response.status().as_u16(),
                            start.elapsed().as_secs_f64(),
                        );
                        Ok(response)
                    }
                })
                .configure(routes::configure)
                .default_service(web::to(|| async {
                    Err::<actix_web::HttpResponse, _>(WebError::NotFound)
                }))
        })
        .workers(workers)
        .listen(listener)?
        .shutdown_timeout(10)
        .run();
        Ok(Self { server, address })
    }

    /// The bound address.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// A handle to stop the server.
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until stopped.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
