//! Prometheus metrics of the auth server.

use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    route: String,
    method: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct IssuedLabels {
    grant: String,
    client: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ErrorLabels {
    error: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: String,
}

type HistogramFamily = Family<HttpLabels, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.000_25, 2.0, 16))
}

/// The metrics of one server instance.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    http: HistogramFamily,
    issued: Family<IssuedLabels, Counter>,
    errors: Family<ErrorLabels, Counter>,
    throttled: Family<KindLabels, Counter>,
    reuse: Counter,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let http: HistogramFamily = Family::new_with_constructor(latency_histogram);
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by route, method and status",
            http.clone(),
        );
        let issued = Family::<IssuedLabels, Counter>::default();
        registry.register(
            "oauth_tokens_issued",
            "Access tokens issued by grant and client",
            issued.clone(),
        );
        let errors = Family::<ErrorLabels, Counter>::default();
        registry.register(
            "oauth_token_errors",
            "Token, revocation and introspection errors by OAuth error code",
            errors.clone(),
        );
        let throttled = Family::<KindLabels, Counter>::default();
        registry.register(
            "oauth_throttled",
            "Requests refused by throttling, by subject kind",
            throttled.clone(),
        );
        let reuse = Counter::default();
        registry.register(
            "oauth_refresh_token_reuse_detected",
            "Refresh-token reuse detections (families revoked)",
            reuse.clone(),
        );
        Self {
            registry: Arc::new(registry),
            http,
            issued,
            errors,
            throttled,
            reuse,
        }
    }

    /// Records one HTTP request.
    pub fn observe_request(&self, route: &str, method: &str, status: u16, seconds: f64) {
        self.http
            .get_or_create(&HttpLabels {
                route: route.to_owned(),
                method: method.to_owned(),
                status,
            })
            .observe(seconds);
    }

    /// Records an issued access token.
    pub fn token_issued(&self, grant: &str, client: &str) {
        self.issued
            .get_or_create(&IssuedLabels {
                grant: grant.to_owned(),
                client: client.to_owned(),
            })
            .inc();
    }

    /// Records an OAuth error answered.
    pub fn token_error(&self, code: &str) {
        self.errors
            .get_or_create(&ErrorLabels {
                error: code.to_owned(),
            })
            .inc();
    }

    /// Records a throttled refusal.
    pub fn throttled(&self, kind: &str) {
        self.throttled
            .get_or_create(&KindLabels {
                kind: kind.to_owned(),
            })
            .inc();
    }

    /// Records a refresh-token reuse detection.
    pub fn refresh_reuse(&self) {
        self.reuse.inc();
    }

    /// The Prometheus text exposition.
    pub fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)?;
        Ok(out)
    }
}
