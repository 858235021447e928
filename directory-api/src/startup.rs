//! Building and running the HTTP server: binds first, so callers learn the real port.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::dev::{Server, ServerHandle, Service as _};
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::{App, HttpMessage as _, HttpServer, web};

use crate::auth::TokenKind;
use crate::auth::keys::{KeyCache, KeySource};
use crate::auth::verify::TokenVerifier;
use crate::clock::{Clock, SystemClock};
use crate::config::Settings;
use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::routes;
use crate::store::Db;
use service_kit::http_metrics::{MetricsServer, method_label, route_label};
use service_kit::shutdown::Draining;

/// How long requests in flight may take to finish once a stop has begun (shared by the services).
pub use service_kit::shutdown::SHUTDOWN_TIMEOUT_SECS;

/// What every handler shares.
pub struct ApiState {
    /// The database.
    pub db: Db,
    /// Checks bearer tokens.
    pub verifier: TokenVerifier,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// Metrics.
    pub metrics: Metrics,
    /// The OpenAPI document, rendered once.
    pub openapi_json: String,
}

/// A built, bound, not yet running API server.
pub struct Application {
    server: Server,
    address: SocketAddr,
    draining: Draining,
    drain_for: Duration,
    db: Db,
    /// `/metrics` on an address of its own (`--metrics-bind`), started with the server.
    metrics_server: Option<MetricsServer>,
}

impl Application {
    /// Builds the server on the system clock.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        Self::build_with_clock(settings, Arc::new(SystemClock)).await
    }

    /// Builds the server: validates settings, connects and migrates the database, tries a
    /// first fetch of the signing keys (the server starts even if the auth server is down,
    /// and answers 503 until it has keys), binds the listener.
    pub async fn build_with_clock(
        settings: Settings,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Self> {
        settings.validate()?;
        // The database URL's password shows as `[REDACTED]`.
        tracing::info!(settings = ?settings, "starting");
        let db = Db::connect(&settings.database_url).await?;
        db.migrate().await?;
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(2))
            .timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let keys = Arc::new(KeyCache::new(
            KeySource {
                issuer: settings.serve.issuer.clone(),
                min_refetch: Duration::from_secs(settings.serve.jwks_min_refetch_secs),
                max_age: Duration::from_secs(settings.serve.jwks_max_age_secs),
            },
            http,
            clock.clone(),
        ));
        // Failure here is logged by the cache; requests retry at the bounded rate.
        drop(keys.refresh().await);
        let verifier = TokenVerifier::new(
            settings.serve.issuer.clone(),
            settings.serve.audience.clone(),
            keys,
            clock.clone(),
        );
        let metrics = Metrics::new();
        let openapi_json =
            serde_json::to_string(&routes::openapi::openapi(&settings.serve.issuer))?;
        let state = web::Data::new(ApiState {
            db: db.clone(),
            verifier,
            clock,
            metrics: metrics.clone(),
            openapi_json,
        });
        let listener = TcpListener::bind(settings.serve.bind)
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", settings.serve.bind))?;
        let metrics_server = settings
            .serve
            .metrics_bind
            .map(|bind| {
                MetricsServer::bind(bind, metrics.encoder())
                    .map_err(|e| anyhow::anyhow!("cannot listen for metrics on {bind}: {e}"))
            })
            .transpose()?;
        let metrics_on_main = metrics_server.is_none();
        let address = listener.local_addr()?;
        let workers = settings
            .serve
            .workers
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        let draining = Draining::default();
        let drain_for = Duration::from_secs(settings.serve.shutdown_drain_secs);
        let app_draining = draining.clone();
        let server = HttpServer::new(move || {
            let metrics = metrics.clone();
            App::new()
                .app_data(state.clone())
                .app_data(web::Data::new(app_draining.clone()))
                .app_data(web::JsonConfig::default().limit(routes::MAX_BODY_BYTES).error_handler(
                    |e: JsonPayloadError, _| ApiError::Malformed(format!("the JSON body is invalid: {e}")).into(),
                ))
                .app_data(web::QueryConfig::default().error_handler(|e: QueryPayloadError, _| {
                    ApiError::Malformed(format!("the query parameters are invalid: {e}")).into()
                }))
                .app_data(web::PathConfig::default().error_handler(|e: PathError, _| {
                    ApiError::Malformed(format!("the path is invalid: {e}")).into()
                }))
                .wrap_fn(move |req, srv| {
                    let start = Instant::now();
                    // Labels from fixed sets only: the route pattern (never the raw path or
                    // query string) or `unmatched`, and a known method or `other`.
                    let route = route_label(&req);
                    let method = method_label(req.method());
                    let metrics = metrics.clone();
                    let response = srv.call(req);
                    async move {
                        let response = response.await?;
                        let status = response.status().as_u16();
                        let kind = response
                            .request()
                            .extensions()
                            .get::<TokenKind>()
                            .map_or("none", |k| k.as_str());
                        let elapsed = start.elapsed();
                        metrics.observe(&route, method, status, kind, elapsed.as_secs_f64());
                        tracing::debug!(%method, %route, status, token_kind = kind, micros = elapsed.as_micros() as u64, "request");
                        Ok(response)
                    }
                })
                .configure(|cfg| routes::configure(cfg, metrics_on_main))
                .default_service(web::to(|| async { Err::<(), _>(ApiError::NotFound) }))
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
            db,
            metrics_server,
        })
    }

    /// The bound address.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The server's own database pool (tests close it to see readiness fail).
    pub fn db(&self) -> Db {
        self.db.clone()
    }

    /// The address serving `/metrics` when `--metrics-bind` is set (the real port when 0 was
    /// asked for); `None` when `/metrics` is on the main address.
    pub fn metrics_address(&self) -> Option<SocketAddr> {
        self.metrics_server.as_ref().map(MetricsServer::address)
    }

    /// A handle to stop the server (the metrics listener stops with it).
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until stopped, then closes the pool. SIGTERM drains for the configured time
    /// (`/readyz` answers 503, everything is still served), then stops gracefully: the listener
    /// closes, requests in flight get up to [`SHUTDOWN_TIMEOUT_SECS`]. Ctrl-C (SIGINT) stops at
    /// once. See `service_kit::shutdown`. The metrics listener, if any, serves alongside and
    /// stops when the server does.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let metrics = self.metrics_server.map(MetricsServer::spawn);
        let result = service_kit::shutdown::serve(self.server, self.draining, self.drain_for).await;
        if let Some(metrics) = metrics {
            metrics.stop(true).await;
        }
        // In-flight requests are done (or were dropped at the timeout): no query is running.
        self.db.close().await;
        tracing::info!("stopped: requests in flight finished, database pool closed");
        result
    }
}
