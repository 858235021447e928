//! Checking a bearer token (RFC 9068 §4, RFC 8725). jsonwebtoken's defaults are not enough
//! here (SECURITY.md §5): the header is inspected first, every required claim is demanded,
//! and times are checked against the injected clock.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, Validation};
use serde::Deserialize;
use sha2::{Digest as _, Sha256};

use super::keys::{KeyCache, KeyError};
use super::{Principal, ScopeSet, TokenKind};
use crate::error::ApiError;
use service_kit::clock::Clock;

/// Longest token looked at; checked before any decoding (SECURITY.md T76).
pub const MAX_TOKEN_BYTES: usize = 4096;

/// Clock skew tolerated on `exp` and `nbf`, in seconds (RFC 9068 §4: "a few minutes" at most).
pub const LEEWAY_SECS: i64 = 30;

/// The header members that matter. Unknown members are ignored, but `crit` is refused: no
/// extension is understood here (RFC 7515 §4.1.11).
#[derive(Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    typ: Option<String>,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    crit: Option<serde_json::Value>,
}

/// The claims of an access token (RFC 9068 §2.2); all required. Duplicate members are
/// refused by the deserialiser, never resolved to one of the values.
#[derive(Deserialize)]
struct Claims {
    iss: String,
    sub: String,
    #[allow(dead_code)]
    aud: serde_json::Value,
    exp: i64,
    iat: i64,
    #[serde(default)]
    nbf: Option<i64>,
    jti: String,
    client_id: String,
    scope: String,
    token_kind: TokenKind,
}

/// Verifies tokens of one issuer for one audience.
pub struct TokenVerifier {
    issuer: String,
    audience: String,
    keys: Arc<KeyCache>,
    clock: Arc<dyn Clock>,
    verified: RwLock<HashMap<[u8; 32], (Principal, i64)>>,
}

/// Verified tokens remembered at most; the memory is dropped wholesale beyond it.
const MAX_REMEMBERED: usize = 10_000;

impl TokenVerifier {
    /// A verifier.
    pub fn new(
        issuer: String,
        audience: String,
        keys: Arc<KeyCache>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            issuer,
            audience,
            keys,
            clock,
            verified: RwLock::new(HashMap::new()),
        }
    }

    /// The key cache.
    pub fn keys(&self) -> &KeyCache {
        &self.keys
    }

    /// Verifies `token` and returns who it speaks for.
    ///
    /// A token that verified is remembered (by its SHA-256) until it expires, so that a client
    /// reusing its token — the web app on every page — pays for one signature check, not one
    /// per request. Only a byte-identical token is answered from memory.
    pub async fn verify(&self, token: &str) -> Result<Principal, ApiError> {
        let invalid = ApiError::InvalidToken;
        if token.len() > MAX_TOKEN_BYTES {
            return Err(invalid("the token is too long"));
        }
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let now = self.clock.now();
        if let Ok(verified) = self.verified.read()
            && let Some((principal, exp)) = verified.get(&digest)
            && now < exp.saturating_add(LEEWAY_SECS)
        {
            return Ok(principal.clone());
        }
        let (principal, exp) = self.check(token).await?;
        if let Ok(mut verified) = self.verified.write() {
            if verified.len() >= MAX_REMEMBERED {
                verified.retain(|_, (_, exp)| now < exp.saturating_add(LEEWAY_SECS));
                if verified.len() >= MAX_REMEMBERED {
                    verified.clear();
                }
            }
            verified.insert(digest, (principal.clone(), exp));
        }
        Ok(principal)
    }

    /// The full check of a token not seen before; returns who it is and when it expires.
    async fn check(&self, token: &str) -> Result<(Principal, i64), ApiError> {
        let invalid = ApiError::InvalidToken;
        let mut parts = token.split('.');
        let (Some(header), Some(_), Some(_), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid("the token is not a signed JWT"));
        };
        let header: Header = URL_SAFE_NO_PAD
            .decode(header)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or(invalid("the token's header is malformed"))?;
        // RFC 9068 §2.1, §4: only this issuer's algorithm; never "none", never HMAC.
        if header.alg != "EdDSA" {
            return Err(invalid("the token's algorithm is not accepted"));
        }
        // RFC 9068 §4: typ must be at+jwt (the RFC's own example writes at+JWT).
        let typ_ok = header.typ.as_deref().is_some_and(|t| {
            t.eq_ignore_ascii_case("at+jwt") || t.eq_ignore_ascii_case("application/at+jwt")
        });
        if !typ_ok {
            return Err(invalid("the token is not an access token (typ)"));
        }
        if header.crit.is_some() {
            return Err(invalid(
                "the token carries critical extensions this server does not understand",
            ));
        }
        let kid = header
            .kid
            .filter(|k| !k.is_empty() && k.len() <= 128)
            .ok_or(invalid("the token names no usable signing key"))?;
        let key = match self.keys.key(&kid).await {
            Ok(key) => key,
            Err(KeyError::Unknown) => return Err(invalid("the token is signed by an unknown key")),
            Err(KeyError::Unavailable(e)) => return Err(ApiError::Unavailable(e)),
        };
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.set_issuer(&[self.issuer.as_str()]);
        validation.set_audience(&[self.audience.as_str()]);
        let claims = jsonwebtoken::decode::<Claims>(token, &key, &validation)
            .map_err(|e| {
                use jsonwebtoken::errors::ErrorKind;
                invalid(match e.kind() {
                    ErrorKind::InvalidSignature => "the token's signature is invalid",
                    ErrorKind::InvalidIssuer => "the token is from another issuer",
                    ErrorKind::InvalidAudience => "the token is meant for another audience",
                    ErrorKind::MissingRequiredClaim(_) => "the token lacks a required claim",
                    _ => "the token is malformed",
                })
            })?
            .claims;
        let now = self.clock.now();
        if now >= claims.exp.saturating_add(LEEWAY_SECS) {
            return Err(invalid("the token has expired"));
        }
        if claims
            .nbf
            .is_some_and(|nbf| nbf > now.saturating_add(LEEWAY_SECS))
            || claims.iat > now.saturating_add(LEEWAY_SECS)
        {
            return Err(invalid("the token is not valid yet"));
        }
        if claims.iss != self.issuer
            || claims.sub.is_empty()
            || claims.jti.is_empty()
            || claims.client_id.is_empty()
        {
            return Err(invalid("the token lacks a required claim"));
        }
        let scopes =
            ScopeSet::parse(&claims.scope).ok_or(invalid("the token's scope is malformed"))?;
        Ok((
            Principal {
                kind: claims.token_kind,
                subject: claims.sub,
                client_id: claims.client_id,
                scopes,
            },
            claims.exp,
        ))
    }
}
