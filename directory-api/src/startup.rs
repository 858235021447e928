//! Building and running the API: its state and its routes, served by `service_kit::server`
//! (which binds first, so callers learn the real port).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::{App, web};
use service_kit::server::{HttpService, Listeners};

use crate::auth::keys::{KeyCache, KeySource};
use crate::auth::verify::TokenVerifier;
use crate::config::Settings;
use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::routes;
use crate::state::{ApiState, PhotoGates};
use crate::store::Db;
use service_kit::clock::{Clock, SystemClock};

/// How long requests in flight may take to finish once a stop has begun (shared by the services).
pub use service_kit::shutdown::SHUTDOWN_TIMEOUT_SECS;

/// A built, bound, not yet running API server.
pub struct Application {
    http: HttpService,
    db: Db,
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
            metrics,
            openapi_json,
            photo_gates: PhotoGates::new(
                std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
            )?,
        });
        let http = Listeners::bind(settings.serve.server_options())?.serve(state, || {
            App::new()
                .app_data(
                    web::JsonConfig::default()
                        .limit(routes::MAX_BODY_BYTES)
                        .error_handler(|e: JsonPayloadError, _| {
                            ApiError::Malformed(format!("the JSON body is invalid: {e}")).into()
                        }),
                )
                .app_data(
                    web::QueryConfig::default().error_handler(|e: QueryPayloadError, _| {
                        ApiError::Malformed(format!("the query parameters are invalid: {e}")).into()
                    }),
                )
                .app_data(web::PathConfig::default().error_handler(|e: PathError, _| {
                    ApiError::Malformed(format!("the path is invalid: {e}")).into()
                }))
                .configure(routes::configure)
                .default_service(web::to(|| async { Err::<(), _>(ApiError::NotFound) }))
        })?;
        Ok(Self { http, db })
    }

    /// The bound address.
    pub fn address(&self) -> SocketAddr {
        self.http.address()
    }

    /// The server's own database pool (tests close it to see readiness fail).
    pub fn db(&self) -> Db {
        self.db.clone()
    }

    /// The address serving `/metrics` when `--metrics-bind` is set (the real port when 0 was
    /// asked for); `None` when `/metrics` is on the main address.
    pub fn metrics_address(&self) -> Option<SocketAddr> {
        self.http.metrics_address()
    }

    /// A handle to stop the server (the metrics listener stops with it).
    pub fn handle(&self) -> ServerHandle {
        self.http.handle()
    }

    /// Serves until stopped, then closes the pool. SIGTERM drains for the configured time
    /// (`/readyz` answers 503, everything is still served), then stops gracefully: the listener
    /// closes, requests in flight get up to [`SHUTDOWN_TIMEOUT_SECS`]. Ctrl-C (SIGINT) stops at
    /// once. See `service_kit::shutdown`. The metrics listener, if any, serves alongside and
    /// stops when the server does.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.http.run_until_stopped().await;
        // In-flight requests are done (or were dropped at the timeout): no query is running.
        self.db.close().await;
        tracing::info!("stopped: requests in flight finished, database pool closed");
        result
    }
}
