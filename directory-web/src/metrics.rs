//! Prometheus metrics of the website. Every label comes from a fixed set (see
//! `service_kit::http_metrics`): nothing a request sends becomes a series.

use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    route: String,
    method: String,
    status: u16,
}

type HistogramFamily = Family<HttpLabels, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.000_25, 2.0, 16))
}

/// The metrics of one website instance.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    http: HistogramFamily,
    /// Token requests made for the site's own token.
    pub app_token_requests: Counter,
    /// Sign-ins refused because their address had too many failures.
    pub sign_ins_throttled: Counter,
    /// Tokens of ended sessions waiting for their revocation to be retried.
    pub revocations_pending: Gauge,
    /// Tokens whose revocation was given up (every retry failed, or the queue was full).
    pub revocations_given_up: Counter,
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
        let app_token_requests = Counter::default();
        registry.register(
            "web_app_token_requests",
            "client_credentials token requests made for the site's own token",
            app_token_requests.clone(),
        );
        let sign_ins_throttled = Counter::default();
        registry.register(
            "web_sign_ins_throttled",
            "Sign-ins refused without asking the authorization server: too many failures from the visitor's address",
            sign_ins_throttled.clone(),
        );
        let revocations_pending = Gauge::default();
        registry.register(
            "web_revocations_pending",
            "Tokens of ended sessions whose revocation at the authorization server waits for a retry",
            revocations_pending.clone(),
        );
        let revocations_given_up = Counter::default();
        registry.register(
            "web_revocations_given_up",
            "Tokens whose revocation was given up: every retry failed, or the retry queue was full",
            revocations_given_up.clone(),
        );
        Self {
            registry: Arc::new(registry),
            http,
            app_token_requests,
            sign_ins_throttled,
            revocations_pending,
            revocations_given_up,
        }
    }

    /// Records one request; `route` and `method` must come from
    /// `service_kit::http_metrics::{route_label, method_label}`.
    pub fn observe(&self, route: &str, method: &str, status: u16, seconds: f64) {
        self.http
            .get_or_create(&HttpLabels {
                route: route.to_owned(),
                method: method.to_owned(),
                status,
            })
            .observe(seconds);
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
