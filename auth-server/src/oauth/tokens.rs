//! JWT access tokens (RFC 9068): the claims, signing, and the checks this server applies when
//! it reads its own tokens back for introspection and revocation.

use jsonwebtoken::{Algorithm, Header, Validation};
use serde::{Deserialize, Serialize};

use super::keys::KeySnapshot;
use super::scope::ScopeSet;

/// The `typ` header of access tokens (RFC 9068 §2.1).
pub const TOKEN_TYPE: &str = "at+jwt";

/// Longest token accepted for verification; anything longer is refused before decoding.
pub const MAX_TOKEN_BYTES: usize = 4096;

/// Whose token it is. Set explicitly by this server, never inferred from `sub`
/// (RFC 9700 §4.15: a client id could equal a username).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenKind {
    /// The client acting for itself (`client_credentials`): `sub` is the client id.
    Client,
    /// A resource owner (`password`, `refresh_token`): `sub` is the username.
    User,
}

/// The claims of an access token (RFC 9068 §2.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// Issuer: this server's issuer identifier.
    pub iss: String,
    /// Subject: the username for user tokens, the client id for client tokens.
    pub sub: String,
    /// Audience: the directory API's identifier, never the client id.
    pub aud: String,
    /// Expiry (Unix seconds).
    pub exp: i64,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Not before (Unix seconds).
    pub nbf: i64,
    /// Unique token id.
    pub jti: String,
    /// The client the token was issued to.
    pub client_id: String,
    /// Granted scopes, space-delimited.
    pub scope: String,
    /// Whether this is a client's or a user's token.
    pub token_kind: TokenKind,
    /// For user tokens: the refresh-token family (the sign-in) the token belongs to, so that
    /// revoking the sign-in makes its access tokens inactive at introspection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
}

impl AccessClaims {
    /// The granted scopes.
    pub fn scopes(&self) -> Option<ScopeSet> {
        ScopeSet::parse(&self.scope).ok()
    }
}

/// Signs `claims` with the active key: header `{"typ":"at+jwt","alg":"EdDSA","kid":…}`.
pub fn sign(claims: &AccessClaims, keys: &KeySnapshot) -> anyhow::Result<String> {
    let mut header = Header::new(Algorithm::EdDSA);
    header.typ = Some(TOKEN_TYPE.to_owned());
    header.kid = Some(keys.active.kid.clone());
    jsonwebtoken::encode(&header, claims, &keys.active.key)
        .map_err(|e| anyhow::anyhow!("signing: {e}"))
}

/// Reads back one of this server's own access tokens: signature by a published key, `typ`,
/// exact `iss` and `aud`, and time validity against `now` (the injected clock, so the
/// library's own clock checks are off). `None` for anything that is not a live token of ours.
pub fn verify(
    token: &str,
    keys: &KeySnapshot,
    issuer: &str,
    audience: &str,
    now: i64,
) -> Option<AccessClaims> {
    if token.len() > MAX_TOKEN_BYTES {
        return None;
    }
    let header = jsonwebtoken::decode_header(token).ok()?;
    if !header.typ.as_deref().is_some_and(|t| {
        t.eq_ignore_ascii_case(TOKEN_TYPE) || t.eq_ignore_ascii_case("application/at+jwt")
    }) {
        return None;
    }
    let key = keys.verifying.get(header.kid.as_deref()?)?;
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    validation.set_issuer(&[issuer]);
    validation.set_audience(&[audience]);
    let claims = jsonwebtoken::decode::<AccessClaims>(token, key, &validation)
        .ok()?
        .claims;
    (now < claims.exp && now >= claims.nbf).then_some(claims)
}
