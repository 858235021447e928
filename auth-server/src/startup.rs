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
    /// Reverse proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

impl AppState {
    /// The client's address: the peer's, or the one a trusted proxy forwarded.
    pub fn client_address(&self, req: &actix_web::HttpRequest) -> Option<std::net::IpAddr> {
        service_kit::address_throttle::client_address(req, &self.trusted_proxies)
    }
}

/// A built, bound, not yet running auth server.
pub struct Application {
    server: Server,
    address: SocketAddr,
    draining: Draining,
    drain_for: Duration,
    issuer: String,
    db: Db,
    metrics_server: Option<service_kit::http_metrics::MetricsServer>,
    purge: tokio::task::JoinHandle<()>,
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
        let db = Db::connect(&settings.database_url)
            .await?
            .with_key_encryption(settings.key_encryption_key()?);
        db.migrate().await?;
        let sealed = db.seal_plain_keys().await?;
        if sealed > 0 {
            tracing::info!(
                keys = sealed,
                "sealed signing keys stored in plain text with the key-encryption key"
            );
        }
        let listener = TcpListener::bind(settings.serve.bind)
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", settings.serve.bind))?;
        let address = listener.local_addr()?;
        let issuer = settings.issuer(address)?;
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
            trusted_proxies: settings.serve.trusted_proxies.clone(),
        });
        let purge = tokio::spawn(purge_periodically(
            state.clone(),
            Duration::from_secs(settings.serve.throttle_purge_secs),
        ));
        let metrics_server = settings
            .serve
            .metrics_bind
            .map(|bind| {
                service_kit::http_metrics::MetricsServer::bind(bind, metrics.encoder())
                    .map_err(|e| anyhow::anyhow!("cannot listen on {bind} for metrics: {e}"))
            })
            .transpose()?;
        let metrics_on_main = metrics_server.is_none();
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
                    let route = service_kit::http_metrics::route_label(&req);
                    let method = service_kit::http_metrics::method_label(req.method());
                    let metrics = metrics.clone();
                    let response = srv.call(req);
                    async move {
                        let response = response.await?;
                        let status = response.status().as_u16();
                        let elapsed = start.elapsed();
                        tracing::debug!(%method, %route, status, micros = elapsed.as_micros() as u64, "request");
                        metrics.observe_request(route, method, status, elapsed.as_secs_f64());
                        Ok(response)
                    }
                })
                .configure(|cfg| routes::configure(cfg, metrics_on_main))
                // Outermost: the request id is known to every log line, including the body deadline's.
                .wrap(service_kit::limits::BodyDeadline::default())
                .wrap(service_kit::request_id::RequestIds)
        })
        .on_connect(service_kit::liveness::on_connect)
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
            metrics_server,
            purge,
        })
    }

    /// The address `/metrics` is served on when `--metrics-bind` is set.
    pub fn metrics_address(&self) -> Option<SocketAddr> {
        self.metrics_server.as_ref().map(|m| m.address())
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
        let metrics = self.metrics_server.map(|m| m.spawn());
        let result = service_kit::shutdown::serve(self.server, self.draining, self.drain_for).await;
        self.purge.abort();
        if let Some(metrics) = metrics {
            metrics.stop(true).await;
        }
        // In-flight requests are done (or were dropped at the timeout): no query is running.
        self.db.close().await;
        tracing::info!("stopped: requests in flight finished, database pool closed");
        result
    }
}

/// Deletes expired throttling counters every `every` (`--throttle-purge-secs`), so that no row
/// outlives its window by much (before, they were purged only when someone signed in).
async fn purge_periodically(state: web::Data<AppState>, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match state.tokens.purge_expired().await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(rows = n, "purged expired throttling counters"),
            Err(e) => tracing::warn!(
                error = format!("{e:#}"),
                "could not purge throttling counters"
            ),
        }
    }
}
