//! Token revocation (RFC 7009): a refresh token ends its whole sign-in, an access token is
//! denied until it expires.

use super::error::OAuthError;
use super::form::FormParams;
use super::secrets::sha256_hex;
use super::service::TokenService;
use super::tokens::MAX_TOKEN_BYTES;
use crate::error::Result;
use crate::store::clients::ClientRecord;

impl TokenService {
    /// RFC 7009: revokes a refresh token (its whole sign-in) or an access token (until it
    /// expires). Unknown tokens, and tokens of other clients, are answered the same way and
    /// left untouched, so the endpoint is no oracle (§2.1, §2.2). `token_type_hint` only
    /// orders the search, which covers both kinds anyway.
    pub async fn revoke(&self, client: &ClientRecord, token: &str) -> Result<()> {
        let now = self.clock.now();
        if token.len() > MAX_TOKEN_BYTES {
            return Ok(());
        }
        if let Some(found) = self.db.find_refresh_token(&sha256_hex(token)).await? {
            if found.client_id == client.client_id.as_str() {
                self.db
                    .revoke_family(&found.family_id, now, "revoked")
                    .await?;
                tracing::info!(client_id = ?client.client_id.as_str(), "refresh token revoked");
            }
            return Ok(());
        }
        if let Some(claims) = self.read_access_token(token, now).await?
            && claims.client_id == client.client_id.as_str()
        {
            self.db
                .deny_access_token(&claims.jti, claims.exp, now)
                .await?;
            tracing::info!(client_id = ?client.client_id.as_str(), "access token revoked");
        }
        Ok(())
    }
}

/// The `token` parameter of a revocation (RFC 7009 §2.1) or introspection (RFC 7662 §2.1)
/// request; `invalid_request` when it is missing.
pub fn token_parameter(params: &FormParams) -> Result<&str, OAuthError> {
    params.require("token", "the token parameter is missing")
}
