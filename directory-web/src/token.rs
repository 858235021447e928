//! The site's own access token (`client_credentials`), obtained with the oauth2 crate, cached
//! and shared by every request. It is renewed shortly before it expires by exactly one request
//! however many pages are being rendered at once, renewed once when the API refuses it, and
//! kept in use through a short outage of the authorization server while it is still valid.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use oauth2::basic::BasicClient;
use oauth2::{ClientId, ClientSecret, EndpointNotSet, EndpointSet, TokenResponse as _, TokenUrl};
use secrecy::{ExposeSecret as _, SecretString};

use service_kit::clock::Clock;

type OAuthClient =
    BasicClient<EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// The cached token.
#[derive(Clone)]
struct Cached {
    token: SecretString,
    expires_at: i64,
}

/// Why no token could be had.
#[derive(Debug, thiserror::Error)]
#[error("the site's own token could not be obtained: {0}")]
pub struct TokenUnavailable(pub String);

/// The site's own token, shared by all requests.
pub struct AppToken {
    oauth: OAuthClient,
    http: reqwest::Client,
    clock: Arc<dyn Clock>,
    renew_before: i64,
    current: RwLock<Option<Cached>>,
    /// Held while a token is being fetched, so that concurrent renewals collapse into one.
    renewing: tokio::sync::Mutex<()>,
    requests: prometheus_client::metrics::counter::Counter,
}

impl AppToken {
    /// A token source for `client_id` at `issuer`'s token endpoint.
    pub fn new(
        issuer: &str,
        client_id: &str,
        client_secret: &SecretString,
        renew_before: i64,
        clock: Arc<dyn Clock>,
        requests: prometheus_client::metrics::counter::Counter,
    ) -> anyhow::Result<Self> {
        // Timeouts, and no redirects (the oauth2 crate's own advice against SSRF).
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(2))
            .timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let oauth = BasicClient::new(ClientId::new(client_id.to_owned()))
            .set_client_secret(ClientSecret::new(client_secret.expose_secret().to_owned()))
            .set_token_uri(TokenUrl::new(format!("{issuer}/oauth/token"))?);
        Ok(Self {
            oauth,
            http,
            clock,
            renew_before,
            current: RwLock::new(None),
            renewing: tokio::sync::Mutex::new(()),
            requests,
        })
    }

    fn cached(&self) -> Option<Cached> {
        match self.current.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// The token to use now.
    pub async fn get(&self) -> Result<SecretString, TokenUnavailable> {
        let now = self.clock.now();
        if let Some(c) = self
            .cached()
            .filter(|c| c.expires_at - now > self.renew_before)
        {
            return Ok(c.token);
        }
        let _renewing = self.renewing.lock().await;
        let now = self.clock.now();
        let cached = self.cached();
        if let Some(c) = cached
            .clone()
            .filter(|c| c.expires_at - now > self.renew_before)
        {
            // Someone renewed it while this request waited.
            return Ok(c.token);
        }
        match self.fetch().await {
            Ok(token) => Ok(token),
            // The auth server is out of reach, but the token still works: keep using it.
            Err(e) => match cached.filter(|c| now < c.expires_at) {
                Some(c) => {
                    tracing::warn!(error = %e, "cannot renew the site's token; using it until it expires");
                    Ok(c.token)
                }
                None => Err(e),
            },
        }
    }

    /// A new token after the API refused `rejected`, unless another request already
    /// replaced it.
    pub async fn renew_after_rejection(
        &self,
        rejected: &SecretString,
    ) -> Result<SecretString, TokenUnavailable> {
        let _renewing = self.renewing.lock().await;
        if let Some(c) = self
            .cached()
            .filter(|c| c.token.expose_secret() != rejected.expose_secret())
        {
            return Ok(c.token);
        }
        self.fetch().await
    }

    /// Fetches and stores a new token (the caller holds `renewing`).
    async fn fetch(&self) -> Result<SecretString, TokenUnavailable> {
        self.requests.inc();
        let response = self
            .oauth
            .exchange_client_credentials()
            .request_async(&crate::outbound::forwarding_client(&self.http))
            .await
            .map_err(|e| TokenUnavailable(e.to_string()))?;
        let lifetime = response
            .expires_in()
            .map_or(60, |d| i64::try_from(d.as_secs()).unwrap_or(60));
        let token = SecretString::from(response.access_token().secret().to_owned());
        let cached = Cached {
            token: token.clone(),
            expires_at: self.clock.now() + lifetime,
        };
        if let Ok(mut guard) = self.current.write() {
            *guard = Some(cached);
        }
        tracing::info!(expires_in = lifetime, "obtained the site's own token");
        Ok(token)
    }
}
