//! What every handler of the website shares, and what it tells the shared HTTP server about
//! itself (readiness, metrics). Routes and start-up both import this module; neither imports
//! the other.

use std::sync::Arc;

use actix_web::HttpRequest;
use service_kit::address_throttle::AddressThrottle;
use service_kit::clock::Clock;
use service_kit::http_metrics::Encoder;
use service_kit::server::{RequestLabels, ServiceState};

use crate::api_client::Api;
use crate::metrics::Metrics;
use crate::photo_cache::PhotoCache;
use crate::renewal::Renewals;
use crate::revocation::Revocations;
use crate::token::AppToken;
use crate::user_tokens::UserTokens;

/// What every handler shares.
pub struct WebState {
    /// The directory API.
    pub api: Api,
    /// The site's own token.
    pub token: AppToken,
    /// The site's client id (shown on pages).
    pub client_id: String,
    /// The authorization server's issuer (the `iss` the code flow's callback must bring, RFC
    /// 9207).
    pub issuer: String,
    /// The ways in the sign-in page offers.
    pub sign_in_methods: crate::config::SignInMethods,
    /// Members of staff's own tokens.
    pub users: Arc<UserTokens>,
    /// Renewals of their tokens, one at a time per session.
    pub renewals: Renewals,
    /// Revocations of ended sessions' tokens, retried when the authorization server was down.
    pub revocations: Arc<Revocations>,
    /// A signed-in session unused for this long ends (seconds).
    pub idle_timeout_secs: i64,
    /// Failed sign-ins per visitor address.
    pub sign_in_throttle: AddressThrottle,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// The browsers' device cookies.
    pub devices: crate::device::DeviceCookies,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// Metrics.
    pub metrics: Metrics,
    /// Staff photos fetched from the API (bounded).
    pub photos: PhotoCache,
    /// Places for photo uploads being read and sent on (see `crate::extract::PhotoUpload`).
    pub photo_uploads: Arc<tokio::sync::Semaphore>,
}

impl ServiceState for WebState {
    /// Ready when the site's own token can be had (the authorization server answers, or the
    /// cached token is still valid) and the directory API answers.
    async fn readiness(&self) -> Vec<(&'static str, bool)> {
        let (token, api) = tokio::join!(self.token.get(), self.api.alive());
        if let Err(e) = &token {
            tracing::warn!(error = %e, "readiness: no token");
        }
        if let Err(e) = &api {
            tracing::warn!(error = %e, "readiness: the API does not answer");
        }
        vec![("token", token.is_ok()), ("api", api.is_ok())]
    }

    fn metrics_encoder(&self) -> Encoder {
        self.metrics.encoder()
    }

    fn observe_request(&self, _request: &HttpRequest, labels: RequestLabels<'_>, seconds: f64) {
        self.metrics
            .observe(labels.route, labels.method, labels.status, seconds);
        let (method, route, status) = (labels.method, labels.route, labels.status);
        let micros = (seconds * 1e6) as u64;
        tracing::debug!(%method, %route, status, micros, "request");
    }
}
