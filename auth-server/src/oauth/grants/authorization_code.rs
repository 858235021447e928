//! The `authorization_code` grant (RFC 6749 §4.1.3 with PKCE, RFC 7636 §4.5): the client
//! exchanges a code the person's sign-in on this server's own page produced. What may be
//! redeemed is decided by [`decide`]; a replay revokes what the first redemption issued.

use secrecy::{ExposeSecret as _, SecretString};

use super::TokenResponse;
use crate::error::Result;
use crate::oauth::code_decision::{CodeDecision, decide};
use crate::oauth::error::OAuthError;
use crate::oauth::pkce::CodeVerifier;
use crate::oauth::policy::GrantPolicy;
use crate::oauth::scope::ScopeSet;
use crate::oauth::secrets::{random_b64, sha256_hex};
use crate::oauth::service::TokenService;
use crate::oauth::tokens::TokenKind;
use crate::oauth::username::Username;
use crate::store::clients::ClientRecord;
use crate::store::codes::{CodeRecord, Redemption};

/// The longest code looked up; ours are 43 characters.
const MAX_CODE_BYTES: usize = 512;

/// The one answer to every refused code, whatever the reason (logged, never shown).
const BAD_CODE: &str = "the authorization code is invalid, expired or already used";

impl TokenService {
    /// RFC 6749 §4.1.3: a user token and a refresh token (a new sign-in), exactly as the
    /// password grant issues them, for a code issued to this client with this redirect URI,
    /// unexpired, unused, whose PKCE challenge `verifier` meets.
    pub(super) async fn authorization_code(
        &self,
        client: &ClientRecord,
        row: &GrantPolicy,
        code: &SecretString,
        redirect_uri: &str,
        verifier: &CodeVerifier,
    ) -> Result<TokenResponse> {
        let code = code.expose_secret();
        if code.len() > MAX_CODE_BYTES {
            return Err(OAuthError::invalid_grant(BAD_CODE).into());
        }
        let code_hash = sha256_hex(code);
        let now = self.clock.now();
        let Some(found) = self.db.find_code(&code_hash).await? else {
            return Err(OAuthError::invalid_grant(BAD_CODE).into());
        };
        let client_id = client.client_id.as_str();
        match decide(&found, client_id, redirect_uri, verifier, now) {
            CodeDecision::Redeem => {}
            CodeDecision::Refuse(reason) => {
                tracing::warn!(client_id = ?client_id, reason, "authorization code refused");
                return Err(OAuthError::invalid_grant(BAD_CODE).into());
            }
            CodeDecision::Replay => {
                self.revoke_redemption(&found, now).await?;
                return Err(OAuthError::invalid_grant(BAD_CODE).into());
            }
        }
        let username = Username::parse(&found.username)
            .map_err(|e| anyhow::anyhow!("stored username: {e}"))?;
        // The person may have been disabled in the code's lifetime.
        if self.db.user(&username).await?.is_none_or(|u| u.disabled) {
            return Err(OAuthError::invalid_grant(BAD_CODE).into());
        }
        let scope =
            ScopeSet::parse(&found.scope).map_err(|e| anyhow::anyhow!("stored scope: {e}"))?;
        // The client's row may have been narrowed since the code was issued.
        if !scope.is_subset_of(row.allowed()) {
            return Err(OAuthError::invalid_grant(BAD_CODE).into());
        }
        // The family exists before the code is marked used, so that a replay, whenever it
        // comes, finds something to revoke.
        let family_id = random_b64(16);
        let refresh_token = self
            .new_family(client, &username, scope, &family_id, now)
            .await?;
        let claims = self.claims(
            TokenKind::User,
            username.as_str(),
            client,
            scope,
            Some(family_id.clone()),
            now,
        );
        let redemption = Redemption {
            family_id: &family_id,
            access_jti: &claims.jti,
            access_expires_at: claims.exp,
        };
        if !self.db.redeem_code(&code_hash, now, &redemption).await? {
            // A concurrent redemption won: this one is the replay. What it issued is
            // revoked, and so is the family started here, which nobody will see.
            self.db.revoke_family(&family_id, now, "lost_race").await?;
            if let Some(winner) = self.db.find_code(&code_hash).await? {
                self.revoke_redemption(&winner, now).await?;
            }
            return Err(OAuthError::invalid_grant(BAD_CODE).into());
        }
        tracing::info!(username = ?username.as_str(), client_id = ?client_id, "authorization code redeemed");
        self.respond(claims, Some(refresh_token)).await
    }

    /// Revokes what the redemption of `code` issued: its refresh-token family, and its access
    /// token through the denylist (RFC 6749 §4.1.2), and counts the replay.
    async fn revoke_redemption(&self, code: &CodeRecord, now: i64) -> Result<()> {
        self.metrics.code_replay();
        if let Some(family_id) = &code.family_id {
            self.db
                .revoke_family(family_id, now, "code_replayed")
                .await?;
        }
        if let Some((jti, expires_at)) = &code.access {
            self.db.deny_access_token(jti, *expires_at, now).await?;
        }
        tracing::warn!(username = ?code.username, client_id = ?code.client_id, "authorization code replayed; its sign-in revoked");
        Ok(())
    }
}
