//! Building and running the auth server: its state and its routes, served by
//! `service_kit::server` (which binds first, so callers learn the real port).

use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{App, web};
use service_kit::clock::{Clock, SystemClock};
use service_kit::server::{HttpService, Listeners};

use crate::config::Settings;
use crate::metrics::Metrics;
use crate::oauth::service::TokenService;
use crate::routes;
use crate::state::AppState;
use crate::store::Db;

/// How long requests in flight may take to finish once a stop has begun (shared by the services).
pub use service_kit::shutdown::SHUTDOWN_TIMEOUT_SECS;

/// A built, bound, not yet running auth server.
pub struct Application {
    http: HttpService,
    issuer: String,
    db: Db,
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
        let listeners = Listeners::bind(settings.serve.server_options())?;
        let issuer = settings.issuer(listeners.address())?;
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
            metrics,
            trusted_proxies: settings.serve.trusted_proxies.clone(),
        });
        let purge = tokio::spawn(purge_periodically(
            state.clone(),
            Duration::from_secs(settings.serve.throttle_purge_secs),
        ));
        let http = listeners.serve(state, || App::new().configure(routes::configure))?;
        Ok(Self {
            http,
            issuer,
            db,
            purge,
        })
    }

    /// The address `/metrics` is served on when `--metrics-bind` is set.
    pub fn metrics_address(&self) -> Option<std::net::SocketAddr> {
        self.http.metrics_address()
    }

    /// The bound address (its port is the real one when 0 was asked for).
    pub fn address(&self) -> std::net::SocketAddr {
        self.http.address()
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
        self.http.handle()
    }

    /// Serves until stopped, then closes the pool. SIGTERM drains for the configured time
    /// (`/readyz` answers 503, everything is still served), then stops gracefully: the listener
    /// closes, requests in flight get up to [`SHUTDOWN_TIMEOUT_SECS`]. Ctrl-C (SIGINT) stops at
    /// once. See `service_kit::shutdown`.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.http.run_until_stopped().await;
        self.purge.abort();
        // In-flight requests are done (or were dropped at the timeout): no query is running.
        self.db.close().await;
        tracing::info!("stopped: requests in flight finished, database pool closed");
        result
    }
}

/// Deletes expired throttling counters and authorization codes every `every`
/// (`--throttle-purge-secs`), so that no row outlives its use by much.
async fn purge_periodically(state: web::Data<AppState>, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match state.tokens.purge_expired().await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(
                rows = n,
                "purged expired throttling counters and authorization codes"
            ),
            Err(e) => tracing::warn!(
                error = format!("{e:#}"),
                "could not purge throttling counters and authorization codes"
            ),
        }
    }
}
