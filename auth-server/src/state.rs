//! What every handler of the auth server shares, and what it tells the shared HTTP server
//! about itself (readiness, metrics). Routes and start-up both import this module; neither
//! imports the other.

use actix_web::HttpRequest;
use service_kit::http_metrics::Encoder;
use service_kit::server::{RequestLabels, ServiceState};

use crate::metrics::Metrics;
use crate::oauth::service::TokenService;

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
    pub fn client_address(&self, req: &HttpRequest) -> Option<std::net::IpAddr> {
        service_kit::address_throttle::client_address(req, &self.trusted_proxies)
    }
}

impl ServiceState for AppState {
    /// Ready when the database answers and signing keys are loaded.
    async fn readiness(&self) -> Vec<(&'static str, bool)> {
        let db = self.tokens.db().ping().await;
        if let Err(e) = &db {
            tracing::warn!(error = format!("{e:#}"), "readiness: database unreachable");
        }
        let keys = match self.tokens.jwks().await {
            Ok(jwks) => !jwks.keys.is_empty(),
            Err(e) => {
                tracing::warn!(error = %e, "readiness: keys unavailable");
                false
            }
        };
        vec![("database", db.is_ok()), ("keys", keys)]
    }

    fn metrics_encoder(&self) -> Encoder {
        self.metrics.encoder()
    }

    fn observe_request(&self, _request: &HttpRequest, labels: RequestLabels<'_>, seconds: f64) {
        self.metrics.observe_request(
            labels.route.to_owned(),
            labels.method,
            labels.status,
            seconds,
        );
        let (method, route, status) = (labels.method, labels.route, labels.status);
        let micros = (seconds * 1e6) as u64;
        tracing::debug!(%method, %route, status, micros, "request");
    }
}
