//! Fetching the authorization server's signing keys: its RFC 8414 metadata, checked to name
//! the configured issuer, then the JWKS at its `jwks_uri`, taken only from the issuer's own
//! origin, and only its Ed25519 signing keys. When and how often is [`super::keys`]' concern.

use std::collections::HashMap;

use anyhow::Context as _;
use jsonwebtoken::DecodingKey;
use serde::Deserialize;

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

/// The issuer's usable signing keys, by `kid`: its metadata is read and checked, then its
/// JWKS fetched from the issuer's own origin. Only Ed25519 signing keys are kept.
pub(super) async fn fetch_keys(
    http: &reqwest::Client,
    issuer: &str,
) -> anyhow::Result<HashMap<String, DecodingKey>> {
    let metadata: Metadata = http
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
    let set: JwkSet = http
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
