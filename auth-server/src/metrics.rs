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

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: String,
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
    client_failures: Family<ClientLabels, Counter>,
    reuse: Counter,
    code_replays: Counter,
    authorizations: Family<OutcomeLabels, Counter>,
    hashing: crate::oauth::hashing::QueueStats,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ClientLabels {
    client: String,
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
        let client_failures = Family::<ClientLabels, Counter>::default();
        registry.register(
            "oauth_client_authentication_failures",
            "Failed client authentications by registered client id (`unknown` for ids that are not registered): a rise for a real client means someone is guessing its secret",
            client_failures.clone(),
        );
        let hashing = crate::oauth::hashing::QueueStats::default();
        registry.register(
            "password_hashes_shed",
            "Sign-ins answered 503 at once because the password-hashing queue was full",
            hashing.shed.clone(),
        );
        registry.register(
            "password_hashes_skipped",
            "Queued password hashes skipped because the requester had disconnected",
            hashing.skipped.clone(),
        );
        let reuse = Counter::default();
        registry.register(
            "oauth_refresh_token_reuse_detected",
            "Refresh-token reuse detections (families revoked)",
            reuse.clone(),
        );
        let authorizations = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "oauth_authorization_responses",
            "Answers of the authorization endpoint sent back to clients: `code`, or the error",
            authorizations.clone(),
        );
        let code_replays = Counter::default();
        registry.register(
            "oauth_authorization_code_replays",
            "Authorization codes presented again after their redemption (what the first redemption issued was revoked)",
            code_replays.clone(),
        );
        Self {
            registry: Arc::new(registry),
            code_replays,
            authorizations,
            http,
            issued,
            errors,
            throttled,
            client_failures,
            reuse,
            hashing,
        }
    }

    /// Records one HTTP request. `route` is a registered pattern or `unmatched`, `method`
    /// one of a fixed set (see `service_kit::http_metrics`): never text as sent.
    pub fn observe_request(&self, route: String, method: &'static str, status: u16, seconds: f64) {
        self.http
            .get_or_create(&HttpLabels {
                route,
                method: method.to_owned(),
                status,
            })
            .observe(seconds);
    }

    /// Records a failed client authentication: `client` is a registered client id, or
    /// `None` for an id that is not registered (all such share one label).
    pub fn client_auth_failed(&self, client: Option<&str>) {
        self.client_failures
            .get_or_create(&ClientLabels {
                client: client.unwrap_or("unknown").to_owned(),
            })
            .inc();
    }

    /// The counters the password hasher updates.
    pub fn hashing(&self) -> crate::oauth::hashing::QueueStats {
        self.hashing.clone()
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

    /// Records an answer of the authorization endpoint sent back to a client: `code` for a
    /// code, else the error code (a fixed set, `oauth::authorize::AuthorizeErrorCode`).
    pub fn authorization_response(&self, outcome: &'static str) {
        self.authorizations
            .get_or_create(&OutcomeLabels {
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    /// Records an authorization code presented again after its redemption.
    pub fn code_replay(&self) {
        self.code_replays.inc();
    }

    /// The exposition as a shareable encoder, for `/metrics` on its own listener.
    pub fn encoder(&self) -> service_kit::http_metrics::Encoder {
        let metrics = self.clone();
        std::sync::Arc::new(move || metrics.encode())
    }

    /// The Prometheus text exposition.
    pub fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)?;
        Ok(out)
    }
}
