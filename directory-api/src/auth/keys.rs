//! The authorization server's signing keys, found through its RFC 8414 metadata and cached.
//!
//! - An unknown `kid` triggers a refetch, at most once per `min_refetch` however many
//!   requests carry it (one fetch at a time; the others wait for its result).
//! - Keys older than `max_age` are refreshed on the next request, at the same bounded rate.
//! - When the auth server cannot be reached, the cached keys keep working.
//! - Keys are taken only from that JWKS: `jku`, `x5u` and `jwk` headers are never followed.
//! - The metadata must name the configured issuer exactly, and its `jwks_uri` must be on the
//!   issuer's own origin (scheme, host and port); otherwise no keys are loaded from it.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use jsonwebtoken::DecodingKey;
use serde::Deserialize;

/// Where and how often to fetch keys.
#[derive(Debug, Clone)]
pub struct KeySource {
    /// The issuer; the metadata is at `{issuer}/.well-known/oauth-authorization-server`.
    pub issuer: String,
    /// Refetch at most this often.
    pub min_refetch: Duration,
    /// Refresh keys older than this.
    pub max_age: Duration,
}

#[derive(Deserialize)]
struct Metadata {
    issuer: String,
    jwks_uri: String,
}

#[derive(Deserialize)]
struct JwkSet {
    keys: Vec<Jwk>,
}

#[derive(Deserialize)]
struct Jwk {
    kty: String,
    #[serde(default)]
    crv: Option<String>,
    #[serde(default)]
    x: Option<String>,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    alg: Option<String>,
    #[serde(default, rename = "use")]
    use_: Option<String>,
}

struct Loaded {
    keys: HashMap<String, DecodingKey>,
    at: Instant,
}

/// The cached verification keys, by `kid`.
pub struct KeyCache {
    source: KeySource,
    http: reqwest::Client,
    loaded: RwLock<Option<Arc<Loaded>>>,
    /// Serialises fetches and remembers when the last one was tried.
    last_attempt: tokio::sync::Mutex<Option<Instant>>,
}

/// Why no key could be had.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The token names a key the issuer does not publish.
    #[error("unknown key")]
    Unknown,
    /// No keys were ever fetched (the auth server has been unreachable since start).
    #[error("signing keys unavailable: {0:#}")]
    Unavailable(anyhow::Error),
}

impl KeyCache {
    /// A cache over `source`, fetching with `http` (which has timeouts and follows no
    /// redirects).
    pub fn new(source: KeySource, http: reqwest::Client) -> Self {
        Self {
            source,
            http,
            loaded: RwLock::new(None),
            last_attempt: tokio::sync::Mutex::new(None),
        }
    }

    /// Whether keys have been fetched (for readiness).
    pub fn is_loaded(&self) -> bool {
        self.snapshot().is_some()
    }

    /// The key `kid`, fetching or refreshing as the rules above allow.
    pub async fn key(&self, kid: &str) -> Result<DecodingKey, KeyError> {
        let snapshot = self.snapshot();
        if let Some(loaded) = &snapshot {
            let fresh = loaded.at.elapsed() < self.source.max_age;
            if let Some(key) = loaded.keys.get(kid).filter(|_| fresh) {
                return Ok(key.clone());
            }
        }
        let refreshed = self.refresh().await;
        let current = self.snapshot();
        match (current, refreshed) {
            (Some(loaded), _) => loaded.keys.get(kid).cloned().ok_or(KeyError::Unknown),
            (None, Err(e)) => Err(KeyError::Unavailable(e)),
            // No keys at all, and the last attempt (within the refetch interval) failed:
            // the token may be perfectly good, so this is not `invalid_token`.
            (None, Ok(())) => Err(KeyError::Unavailable(anyhow::anyhow!(
                "no signing keys could be fetched from the authorization server yet"
            ))),
        }
    }

    /// Fetches now unless a fetch was tried within `min_refetch` (then the result of that one
    /// stands). Errors are returned, and the cached keys kept.
    pub async fn refresh(&self) -> anyhow::Result<()> {
        let mut last = self.last_attempt.lock().await;
        if last.is_some_and(|at| at.elapsed() < self.source.min_refetch) {
            return Ok(());
        }
        *last = Some(Instant::now());
        match self.fetch().await {
            Ok(keys) => {
                tracing::info!(
                    keys = keys.len(),
                    "fetched the authorization server's signing keys"
                );
                if let Ok(mut guard) = self.loaded.write() {
                    *guard = Some(Arc::new(Loaded {
                        keys,
                        at: Instant::now(),
                    }));
                }
                Ok(())
            }
            Err(e) => {
                tracing::warn!(
                    error = format!("{e:#}"),
                    "cannot fetch signing keys; keeping the cached ones"
                );
                Err(e)
            }
        }
    }

    fn snapshot(&self) -> Option<Arc<Loaded>> {
        match self.loaded.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    async fn fetch(&self) -> anyhow::Result<HashMap<String, DecodingKey>> {
        let issuer = &self.source.issuer;
        let metadata: Metadata = self
            .http
            .get(format!("{issuer}/.well-known/oauth-authorization-server"))
            .headers(request_id_header())
            .send()
            .await
            .context("metadata request failed")?
            .error_for_status()
            .context("metadata request refused")?
            .json()
            .await
            .context("metadata unreadable")?;
        // RFC 8414 §3.3: metadata whose issuer differs from the one asked for MUST NOT be used.
        anyhow::ensure!(
            metadata.issuer == *issuer,
            "the metadata names issuer {:?}, not {:?}",
            metadata.issuer,
            issuer
        );
        // The keys must come from the issuer itself: a `jwks_uri` on another origin would hand
        // the power to sign tokens to whoever runs that other host (RFC 8414 §3.3 binds the
        // metadata to the issuer; RFC 6454 §4 says what an origin is).
        if !service_kit::issuer::same_origin(&metadata.jwks_uri, issuer) {
            tracing::error!(
                jwks_uri = ?metadata.jwks_uri,
                issuer = %issuer,
                "refusing the metadata's jwks_uri: it is not on the issuer's origin; no keys loaded from it"
            );
            anyhow::bail!(
                "the metadata's jwks_uri {:?} is not on the issuer's origin {:?}: keys are fetched only from the issuer's own origin",
                metadata.jwks_uri,
                issuer
            );
        }
        let set: JwkSet = self
            .http
            .get(&metadata.jwks_uri)
            .headers(request_id_header())
            .send()
            .await
            .context("JWKS request failed")?
            .error_for_status()
            .context("JWKS request refused")?
            .json()
            .await
            .context("JWKS unreadable")?;
        let mut keys = HashMap::new();
        for jwk in set.keys {
            // Only Ed25519 signing keys, each bound to EdDSA (RFC 8725 §3.1).
            let usable = jwk.kty == "OKP"
                && jwk.crv.as_deref() == Some("Ed25519")
                && jwk.alg.as_deref().is_none_or(|a| a == "EdDSA")
                && jwk.use_.as_deref().is_none_or(|u| u == "sig");
            if let (true, Some(kid), Some(x)) = (usable, jwk.kid, jwk.x) {
                keys.insert(
                    kid,
                    DecodingKey::from_ed_components(&x).context("bad Ed25519 key in the JWKS")?,
                );
            }
        }
        Ok(keys)
    }
}

/// The id of the request that caused a fetch (an unknown `kid`), forwarded so that the
/// authorization server's log lines of the fetch carry it; none for the fetch at start.
fn request_id_header() -> reqwest::header::HeaderMap {
    let mut headers = reqwest::header::HeaderMap::new();
    if let Some(value) = service_kit::request_id::current()
        .and_then(|id| reqwest::header::HeaderValue::from_str(id.as_str()).ok())
    {
        headers.insert(service_kit::request_id::HEADER, value);
    }
    headers
}
