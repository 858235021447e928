//! JWT access tokens (RFC 9068): the claims, signing, and the checks this server applies when
//! it reads its own tokens back for introspection and revocation.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::Signer as _;
use jsonwebtoken::{Algorithm, Validation};
use serde::{Deserialize, Serialize};

use super::keys::{ALGORITHM, KeySnapshot};
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

/// The JOSE header of every access token (RFC 9068 §2.1, RFC 7515 §4).
#[derive(Serialize)]
struct JoseHeader<'a> {
    typ: &'static str,
    alg: &'static str,
    kid: &'a str,
}

/// Signs `claims` with the active key into a JWS compact serialisation (RFC 7515 §7.1):
/// `base64url(header) "." base64url(claims) "." base64url(Ed25519 signature)`, header
/// `{"typ":"at+jwt","alg":"EdDSA","kid":…}`. Done here rather than by `jsonwebtoken::encode`
/// only so the parsed key is reused; verification (here and at the API) is jsonwebtoken's.
pub fn sign(claims: &AccessClaims, keys: &KeySnapshot) -> anyhow::Result<String> {
    let header = JoseHeader {
        typ: TOKEN_TYPE,
        alg: ALGORITHM,
        kid: &keys.active.kid,
    };
    let mut jwt = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header)?);
    jwt.push('.');
    URL_SAFE_NO_PAD.encode_string(serde_json::to_vec(claims)?, &mut jwt);
    let signature = keys.active.key.sign(jwt.as_bytes());
    jwt.push('.');
    URL_SAFE_NO_PAD.encode_string(signature.to_bytes(), &mut jwt);
    Ok(jwt)
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
