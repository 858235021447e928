//! Prometheus metrics of the API. Every label comes from a fixed set: the route is a
//! registered pattern or `unmatched`, the method one of seven or `other` (see
//! `service_kit::http_metrics`), the status one the API itself answered.

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
struct DecisionLabels {
    route: String,
    token_kind: String,
    outcome: String,
}

type HistogramFamily = Family<HttpLabels, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.000_25, 2.0, 16))
}

/// The metrics of one API instance.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    http: HistogramFamily,
    decisions: Family<DecisionLabels, Counter>,
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
        let decisions = Family::<DecisionLabels, Counter>::default();
        registry.register(
            "api_decisions",
            "Authorization decisions by route, kind of token and outcome",
            decisions.clone(),
        );
        Self {
            registry: Arc::new(registry),
            http,
            decisions,
        }
    }

    /// Records one request: its latency, and the decision taken for its token.
    pub fn observe(&self, route: &str, method: &str, status: u16, token_kind: &str, seconds: f64) {
        self.http
            .get_or_create(&HttpLabels {
                route: route.to_owned(),
                method: method.to_owned(),
                status,
            })
            .observe(seconds);
        let outcome = match status {
            401 => "unauthenticated",
            403 => "forbidden",
            s if s < 400 => "allowed",
            s if s < 500 => "rejected",
            _ => "failed",
        };
        self.decisions
            .get_or_create(&DecisionLabels {
                route: route.to_owned(),
                token_kind: token_kind.to_owned(),
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    /// The Prometheus text exposition.
    pub fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)?;
        Ok(out)
    }

    /// The exposition as a shareable encoder, for `/metrics` on its own listener.
    pub fn encoder(&self) -> service_kit::http_metrics::Encoder {
        let metrics = self.clone();
        Arc::new(move || metrics.encode())
    }
}
