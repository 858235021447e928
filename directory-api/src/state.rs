//! What every handler of the API shares, and what it tells the shared HTTP server about
//! itself (readiness, metrics). Routes and start-up both import this module; neither imports
//! the other.

use std::sync::Arc;

use actix_web::{HttpMessage as _, HttpRequest};
use service_kit::clock::Clock;
use service_kit::http_metrics::Encoder;
use service_kit::server::{RequestLabels, ServiceState};

use crate::auth::TokenKind;
use crate::auth::verify::TokenVerifier;
use crate::metrics::Metrics;
use crate::store::Db;

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
    /// Bounds on the work photo uploads make.
    pub photo_gates: PhotoGates,
}

/// Bounds on photo uploads: each holds up to 5 MB while it is read and decoded, and decoding
/// is CPU-bound work done off the async runtime.
#[derive(Debug)]
pub struct PhotoGates {
    /// Uploads being read or decoded at once; when all are taken, an upload is answered 503
    /// with `Retry-After` at once, so memory stays bounded (this many × 5 MB).
    pub uploads: Arc<tokio::sync::Semaphore>,
    /// The decoding threads (one per CPU: [`crate::threads`]); an upload waits for one for
    /// at most [`PhotoGates::DECODE_WAIT`], then is answered 503.
    pub decoders: crate::threads::Dedicated,
}

impl PhotoGates {
    /// How long an upload may wait for a decoder.
    pub const DECODE_WAIT: std::time::Duration = std::time::Duration::from_secs(20);

    /// Gates for a machine of `cpus` CPUs: a decoder per CPU, four uploads per CPU (at least 8).
    pub fn new(cpus: usize) -> anyhow::Result<Self> {
        let cpus = cpus.max(1);
        Ok(Self {
            uploads: Arc::new(tokio::sync::Semaphore::new((cpus * 4).max(8))),
            decoders: crate::threads::Dedicated::start("photo", cpus)?,
        })
    }
}

impl ServiceState for ApiState {
    /// Ready when the database answers and the authorization server's keys have been fetched
    /// (once fetched, they are kept through an outage of the authorization server).
    async fn readiness(&self) -> Vec<(&'static str, bool)> {
        let db = self.db.ping().await;
        if let Err(e) = &db {
            tracing::warn!(error = format!("{e:#}"), "readiness: database unreachable");
        }
        // A refresh skipped by the refetch rate limit also answers `Ok`: only keys in hand count.
        let keys = self.verifier.keys();
        let loaded = keys.is_loaded() || (keys.refresh().await.is_ok() && keys.is_loaded());
        if !loaded {
            tracing::warn!("readiness: no signing keys yet");
        }
        vec![("database", db.is_ok()), ("jwks", loaded)]
    }

    fn metrics_encoder(&self) -> Encoder {
        self.metrics.encoder()
    }

    /// Also labels the kind of token presented (`none` when there was none).
    fn observe_request(&self, request: &HttpRequest, labels: RequestLabels<'_>, seconds: f64) {
        let kind = request
            .extensions()
            .get::<TokenKind>()
            .map_or("none", |k| k.as_str());
        self.metrics
            .observe(labels.route, labels.method, labels.status, kind, seconds);
        let (method, route, status) = (labels.method, labels.route, labels.status);
        let micros = (seconds * 1e6) as u64;
        tracing::debug!(%method, %route, status, token_kind = kind, micros, "request");
    }
}

#[cfg(test)]
mod tests {
    use super::PhotoGates;

    #[test]
    fn photo_uploads_are_bounded_and_decoders_are_one_per_cpu() {
        let gates = PhotoGates::new(2).unwrap();
        let held: Vec<_> = (0..8)
            .map(|_| gates.uploads.try_acquire().unwrap())
            .collect();
        assert!(gates.uploads.try_acquire().is_err(), "the ninth is refused");
        assert_eq!(gates.decoders.free(), 2);
        drop(held);
        assert!(gates.uploads.try_acquire().is_ok());
        assert_eq!(PhotoGates::new(8).unwrap().uploads.available_permits(), 32);
        assert_eq!(PhotoGates::new(0).unwrap().decoders.free(), 1);
    }
}
