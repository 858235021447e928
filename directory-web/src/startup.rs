//! Building and running the website: binds first, so callers learn the real port.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::dev::{Server, ServerHandle, Service as _};
use actix_web::error::UrlencodedError;
use actix_web::middleware::DefaultHeaders;
use actix_web::{App, HttpServer, web};

use crate::api_client::Api;
use crate::clock::{Clock, SystemClock};
use crate::config::Settings;
use crate::error::WebError;
use crate::metrics::Metrics;
use crate::renewal::Renewals;
use crate::revocation::Revocations;
use crate::routes;
use crate::token::AppToken;
use crate::user_tokens::UserTokens;
use actix_session::SessionMiddleware;
use actix_session::config::CookieContentSecurity;
use actix_session::storage::CookieSessionStore;
use actix_web::cookie::{Key, SameSite};
use base64::Engine as _;
use secrecy::ExposeSecret as _;
use service_kit::address_throttle::AddressThrottle;
use service_kit::http_metrics::{MetricsServer, method_label, route_label};
use service_kit::shutdown::Draining;

/// How long requests in flight may take to finish once a stop has begun (shared by the services).
pub use service_kit::shutdown::SHUTDOWN_TIMEOUT_SECS;

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
    /// Members of staff's own tokens.
    pub users: Arc<UserTokens>,
    /// Renewals of their tokens, one at a time per session.
    pub renewals: Renewals,
    /// Revocations of ended sessions' tokens, retried when the authorization server was down.
    pub revocations: Arc<Revocations>,
    /// A signed-in session unused for this long ends (seconds).
    pub idle_timeout_secs: i64,
    /// Failed sign-ins per visitor address.
    pub sign_in_throttle: AddressThrottle,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// The browsers' device cookies.
    pub devices: crate::device::DeviceCookies,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// Metrics.
    pub metrics: Metrics,
}

/// A built, bound, not yet running website.
pub struct Application {
    server: Server,
    address: SocketAddr,
    draining: Draining,
    drain_for: Duration,
    metrics_server: Option<MetricsServer>,
    revocations: Arc<Revocations>,
    users: Arc<UserTokens>,
    clock: Arc<dyn Clock>,
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
        // The client secret and the session key show as `[REDACTED]` (secrecy).
        tracing::info!(settings = ?settings, "starting");
        let client_secret = settings.client_secret()?;
        let metrics = Metrics::new();
        let token = AppToken::new(
            &settings.issuer,
            &settings.client_id,
            &client_secret,
            settings.token_renew_before_secs,
            clock.clone(),
            metrics.app_token_requests.clone(),
        )?;
        let session_key = match &settings.session_key()? {
            Some(encoded) => {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(encoded.expose_secret().trim())
                    .map_err(|_| anyhow::anyhow!("the session key is not base64"))?;
                anyhow::ensure!(
                    bytes.len() >= 64,
                    "the session key must have at least 64 bytes"
                );
                Key::from(&bytes)
            }
            None => {
                tracing::warn!("no session key configured: sessions end when the site restarts");
                Key::generate()
            }
        };
        let secure = settings.served_over_https();
        let users = Arc::new(UserTokens::new(
            &settings.issuer,
            &settings.client_id,
            &client_secret,
            clock.clone(),
        )?);
        let revocations = Arc::new(Revocations::new(
            crate::revocation::DEFAULT_CAPACITY,
            metrics.revocations_pending.clone(),
            metrics.revocations_given_up.clone(),
        ));
        // Bound first, like the main listener, so that a taken port fails the start.
        let metrics_server = settings
            .metrics_bind
            .map(|bind| {
                MetricsServer::bind(bind, metrics.encoder())
                    .map_err(|e| anyhow::anyhow!("cannot listen for /metrics on {bind}: {e}"))
            })
            .transpose()?;
        let metrics_here = metrics_server.is_none();
        let state = web::Data::new(WebState {
            api: Api::new(&settings.api_url)?,
            renewals: Renewals::new(
                users.clone(),
                revocations.clone(),
                clock.clone(),
                crate::renewal::MAX_RENEWALS_IN_FLIGHT,
            ),
            users: users.clone(),
            revocations: revocations.clone(),
            sign_in_throttle: AddressThrottle::new(
                settings.max_failed_sign_ins_per_address,
                settings.sign_in_window_secs,
                service_kit::address_throttle::DEFAULT_CAPACITY,
            ),
            trusted_proxies: settings.trusted_proxies.clone(),
            devices: crate::device::DeviceCookies::new(session_key.clone(), secure),
            idle_timeout_secs: settings.idle_timeout_secs,
            token,
            client_id: settings.client_id.clone(),
            issuer: settings.issuer.clone(),
            clock: clock.clone(),
            metrics: metrics.clone(),
        });
        let listener = TcpListener::bind(settings.bind)
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", settings.bind))?;
        let address = listener.local_addr()?;
        let workers = settings
            .workers
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        let draining = Draining::default();
        let drain_for = Duration::from_secs(settings.shutdown_drain_secs);
        let app_draining = draining.clone();
        let server = HttpServer::new(move || {
            let metrics = metrics.clone();
            // Encrypted (AES-GCM), HttpOnly, SameSite=Lax; Secure with a `__Host-` name over HTTPS.
            let sessions =
                SessionMiddleware::builder(CookieSessionStore::default(), session_key.clone())
                    .cookie_name(if secure { "__Host-session" } else { "session" }.to_owned())
                    .cookie_secure(secure)
                    .cookie_http_only(true)
                    .cookie_same_site(SameSite::Lax)
                    .cookie_path("/".to_owned())
                    .cookie_domain(None)
                    .cookie_content_security(CookieContentSecurity::Private)
                    .build();
            let mut security_headers = DefaultHeaders::new()
                .add(("Content-Security-Policy", CONTENT_SECURITY_POLICY))
                .add(("X-Content-Type-Options", "nosniff"))
                .add(("X-Frame-Options", "DENY"))
                // `same-origin`: no referrer leaves the site, yet the site's own form posts keep a
                // real `Origin` (with `no-referrer`, browsers send `Origin: null`).
                .add(("Referrer-Policy", "same-origin"))
                .add(("Cross-Origin-Opener-Policy", "same-origin"))
                .add((
                    "Permissions-Policy",
                    "camera=(), microphone=(), geolocation=()",
                ));
            if secure {
                security_headers =
                    security_headers.add(("Strict-Transport-Security", crate::headers::HSTS));
            }
            App::new()
                .app_data(state.clone())
                .app_data(web::Data::new(app_draining.clone()))
                .app_data(web::FormConfig::default().limit(16 * 1024).error_handler(
                    |e, _| match e {
                        UrlencodedError::Overflow { .. } => WebError::PayloadTooLarge.into(),
                        e => {
                            WebError::BadRequest(format!("The form could not be read: {e}.")).into()
                        }
                    },
                ))
                // Inside the session middleware, so that it sees the session.
                .wrap(actix_web::middleware::from_fn(crate::headers::private_pages))
                .wrap(sessions)
                .wrap(security_headers)
                .wrap_fn(move |req, srv| {
                    let start = Instant::now();
                    // Labels from fixed sets only: never the method or path as sent.
                    let route = route_label(&req);
                    let method = method_label(req.method());
                    let metrics = metrics.clone();
                    let response = srv.call(req);
                    async move {
                        let response = response.await?;
                        let status = response.status().as_u16();
                        let elapsed = start.elapsed();
                        metrics.observe(&route, method, status, elapsed.as_secs_f64());
                        tracing::debug!(%method, %route, status, micros = elapsed.as_micros() as u64, "request");
                        Ok(response)
                    }
                })
                .configure(|cfg| routes::configure(cfg, metrics_here))
                .default_service(web::to(|| async {
                    Err::<actix_web::HttpResponse, _>(WebError::NotFound)
                }))
                // Outermost: the request id is known to every log line, including the body deadline's.
                .wrap(service_kit::limits::BodyDeadline::default())
                .wrap(service_kit::request_id::RequestIds)
        })
        .workers(workers)
        .listen(listener)?
        .client_request_timeout(service_kit::limits::HEADER_TIMEOUT)
        .client_disconnect_timeout(service_kit::limits::DISCONNECT_TIMEOUT)
        .keep_alive(service_kit::limits::KEEP_ALIVE)
        .shutdown_timeout(SHUTDOWN_TIMEOUT_SECS)
        // Signals are handled in `run_until_stopped`, which drains first.
        .disable_signals()
        .run();
        Ok(Self {
            server,
            address,
            draining,
            drain_for,
            metrics_server,
            revocations,
            users,
            clock,
        })
    }

    /// The bound address.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The address of the separate `/metrics` listener (`--metrics-bind`), if any.
    pub fn metrics_address(&self) -> Option<SocketAddr> {
        self.metrics_server.as_ref().map(MetricsServer::address)
    }

    /// A handle to stop the server.
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until stopped. SIGTERM drains for the configured time (`/readyz` answers 503,
    /// everything is still served), then stops gracefully: the listener closes, requests in
    /// flight get up to [`SHUTDOWN_TIMEOUT_SECS`]. Ctrl-C (SIGINT) stops at once. See
    /// `service_kit::shutdown`.
    ///
    /// The separate `/metrics` listener and the background retry of revocations run as long as
    /// the website does.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let metrics = self.metrics_server.map(MetricsServer::spawn);
        let retries = tokio::spawn(
            self.revocations
                .clone()
                .run(self.users.clone(), self.clock.clone()),
        );
        let result = service_kit::shutdown::serve(self.server, self.draining, self.drain_for).await;
        retries.abort();
        let waiting = self.revocations.waiting();
        if waiting > 0 {
            tracing::warn!(
                waiting,
                "stopping with revocations still to retry: those sign-ins stay live until they expire"
            );
        }
        if let Some(metrics) = metrics {
            metrics.stop(true).await;
        }
        tracing::info!("stopped: requests in flight finished");
        result
    }
}
