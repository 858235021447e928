//! Token introspection (RFC 7662): what is known of a token, told only to the client it was
//! issued to.

use serde::Serialize;

use super::secrets::sha256_hex;
use super::service::TokenService;
use super::tokens::{MAX_TOKEN_BYTES, TokenKind};
use crate::error::Result;
use crate::store::clients::ClientRecord;

/// An introspection response (RFC 7662 §2.2). An inactive token is exactly `{"active":false}`.
#[derive(Debug, Default, Serialize)]
pub struct Introspection {
    /// Whether the token is active.
    pub active: bool,
    /// Granted scope.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// The client it was issued to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The resource owner, for user tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// `Bearer` for access tokens, `refresh_token` for refresh tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<&'static str>,
    /// Expiry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    /// Issue time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    /// Not before.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    /// Subject.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// Audience.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    /// Issuer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// Token id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    /// Whether the token is a client's or a user's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_kind: Option<TokenKind>,
}

impl TokenService {
    /// RFC 7662: what is known of a token. A client may introspect only tokens issued to it;
    /// anything else is `{"active":false}` with no reason given (§2.2).
    pub async fn introspect(&self, client: &ClientRecord, token: &str) -> Result<Introspection> {
        let now = self.clock.now();
        if token.len() > MAX_TOKEN_BYTES {
            return Ok(Introspection::default());
        }
        let mine = |client_id: &str| client_id == client.client_id.as_str();
        if let Some(found) = self.db.find_refresh_token(&sha256_hex(token)).await? {
            let exp = found.token_expires_at.min(found.family_expires_at);
            let active = mine(&found.client_id)
                && !found.revoked
                && found.token_generation == found.family_generation
                && now < exp;
            if !active {
                return Ok(Introspection::default());
            }
            return Ok(Introspection {
                active: true,
                scope: Some(found.scope),
                client_id: Some(found.client_id),
                sub: Some(found.username.clone()),
                username: Some(found.username),
                token_type: Some("refresh_token"),
                exp: Some(exp),
                iat: Some(found.token_issued_at),
                token_kind: Some(TokenKind::User),
                ..Introspection::default()
            });
        }
        let Some(claims) = self.read_access_token(token, now).await? else {
            return Ok(Introspection::default());
        };
        if !mine(&claims.client_id) || self.db.access_token_denied(&claims.jti).await? {
            return Ok(Introspection::default());
        }
        if let Some(sid) = &claims.sid {
            // Revoking the sign-in invalidates its access tokens too (RFC 7009 §2.1).
            if !self.db.family_is_live(sid, now).await? {
                return Ok(Introspection::default());
            }
        }
        Ok(Introspection {
            active: true,
            username: (claims.token_kind == TokenKind::User).then(|| claims.sub.clone()),
            scope: Some(claims.scope),
            client_id: Some(claims.client_id),
            token_type: Some("Bearer"),
            exp: Some(claims.exp),
            iat: Some(claims.iat),
            nbf: Some(claims.nbf),
            sub: Some(claims.sub),
            aud: Some(claims.aud),
            iss: Some(claims.iss),
            jti: Some(claims.jti),
            token_kind: Some(claims.token_kind),
        })
    }
}
