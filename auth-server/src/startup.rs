//! Building and running the HTTP server: binds first, so callers learn the real port.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::dev::{Server, ServerHandle, Service as _};
use actix_web::{App, HttpServer, web};

use crate::clock::{Clock, SystemClock};
use crate::config::Settings;
use crate::metrics::Metrics;
use crate::oauth::service::TokenService;
use crate::routes;
use crate::store::Db;
use service_kit::shutdown::Draining;

/// How long requests in flight may take to finish once a stop has begun (shared by the services).
pub use service_kit::shutdown::SHUTDOWN_TIMEOUT_SECS;

/// What every handler shares.
pub struct AppState {
    /// The OAuth logic.
    pub tokens: TokenService,
    /// Metrics.
    pub metrics: Metrics,
}

/// A built, bound, not yet running auth server.
pub struct Application {
    server: Server,
    address: SocketAddr,
    draining: Draining,
    drain_for: Duration,
    issuer: String,
    db: Db,
}

impl Application {
    /// Builds the server on the system clock.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        Self::build_with_clock(settings, Arc::new(SystemClock)).await
    }

    /// Builds the server: validates settings, connects and migrates the database, loads or
    /// creates signing keys, binds the listener.
    pub async fn build_with_clock(
        settings: Settings,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Self> {
        settings.validate()?;
        // The database URL's password shows as `[REDACTED]`.
        tracing::info!(settings = ?settings, "starting");
        let db = Db::connect(&settings.database_url).await?;
        db.migrate().await?;
        let listener = TcpListener::bind(settings.serve.bind)
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", settings.serve.bind))?;
        let address = listener.local_addr()?;
        let issuer = settings
            .serve
            .issuer
            .clone()
            .unwrap_or_else(|| format!("http://{address}"));
        let metrics = Metrics::new();
        let tokens = TokenService::new(
            db.clone(),
            clock,
            &settings,
            issuer.clone(),
            metrics.clone(),
        )
        .await?;
        let state = web::Data::new(AppState {
            tokens,
            metrics: metrics.clone(),
        });
        let workers = settings.serve.workers;
        let draining = Draining::default();
        let drain_for = Duration::from_secs(settings.serve.shutdown_drain_secs);
        let app_draining = draining.clone();
        let server = HttpServer::new(move || {
            let metrics = metrics.clone();
            App::new()
                .app_data(state.clone())
                .app_data(web::Data::new(app_draining.clone()))
                .wrap_fn(move |req, srv| {
                    let start = Instant::now();
                    // The route pattern, never the raw path or query: no secret reaches a log.
                    let route = req.match_pattern().unwrap_or_else(|| "unmatched".to_owned());
                    let method = req.method().to_string();
                    let metrics = metrics.clone();
                    let response = srv.call(req);
                    async move {
                        let response = response.await?;
                        let status = response.status().as_u16();
                        let elapsed = start.elapsed();
                        metrics.observe_request(&route, &method, status, elapsed.as_secs_f64());
                        tracing::debug!(%method, %route, status, micros = elapsed.as_micros() as u64, "request");
                        Ok(response)
                    }
                })
                .configure(routes::configure)
                // Outermost: the request id is known to every log line, including the body deadline's.
                .wrap(service_kit::limits::BodyDeadline::default())
                .wrap(service_kit::request_id::RequestIds)
        })
        .workers(workers.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())))
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
            issuer,
            db,
        })
    }

    /// The bound address (its port is the real one when 0 was asked for).
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The issuer identifier in use.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The server's own database pool (tests close it to see readiness fail).
    pub fn db(&self) -> Db {
        self.db.clone()
    }

    /// A handle to stop the server.
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until stopped, then closes the pool. SIGTERM drains for the configured time
    /// (`/readyz` answers 503, everything is still served), then stops gracefully: the listener
    /// closes, requests in flight get up to [`SHUTDOWN_TIMEOUT_SECS`]. Ctrl-C (SIGINT) stops at
    /// once. See `service_kit::shutdown`.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = service_kit::shutdown::serve(self.server, self.draining, self.drain_for).await;
        // In-flight requests are done (or were dropped at the timeout): no query is running.
        self.db.close().await;
        tracing::info!("stopped: requests in flight finished, database pool closed");
        result
    }
}
