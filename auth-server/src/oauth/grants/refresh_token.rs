//! The `refresh_token` grant (RFC 6749 §6) with rotation and reuse detection (RFC 9700
//! §4.14.2): loads the presented token, asks [`decide`] what to do, and does it.

use secrecy::{ExposeSecret as _, SecretString};

use super::TokenResponse;
use crate::error::Result;
use crate::oauth::error::OAuthError;
use crate::oauth::policy::GrantPolicy;
use crate::oauth::refresh_decision::{RefreshDecision, decide, needs_rotation_time};
use crate::oauth::scope::ScopeSet;
use crate::oauth::secrets::{random_token, sha256_hex};
use crate::oauth::service::TokenService;
use crate::oauth::tokens::TokenKind;
use crate::oauth::username::Username;
use crate::store::clients::ClientRecord;
use crate::store::rotations::Rotation;

/// The longest refresh token looked up; ours are 43 characters.
const MAX_REFRESH_TOKEN_BYTES: usize = 512;

/// The one answer to every refused refresh, whatever the reason.
const BAD_REFRESH: &str = "the refresh token is invalid, expired or revoked";

impl TokenService {
    /// RFC 6749 §6: a new access token and the next refresh token of the family, for the
    /// client the family was issued to. The rules, including the concurrency policy, are in
    /// [`crate::oauth::refresh_decision`].
    pub(super) async fn refresh(
        &self,
        client: &ClientRecord,
        row: &GrantPolicy,
        presented: &SecretString,
        requested: Option<ScopeSet>,
    ) -> Result<TokenResponse> {
        let presented = presented.expose_secret();
        if presented.len() > MAX_REFRESH_TOKEN_BYTES {
            return Err(OAuthError::invalid_grant(BAD_REFRESH).into());
        }
        let now = self.clock.now();
        let Some(found) = self.db.find_refresh_token(&sha256_hex(presented)).await? else {
            return Err(OAuthError::invalid_grant(BAD_REFRESH).into());
        };
        let client_id = client.client_id.as_str();
        let rotated_at = if needs_rotation_time(&found, client_id, now) {
            self.db
                .rotated_at(&found.family_id, found.family_generation)
                .await?
        } else {
            None
        };
        match decide(&found, client_id, rotated_at, now, self.reuse_grace) {
            RefreshDecision::Rotate => {}
            RefreshDecision::Refuse(_) => {
                return Err(OAuthError::invalid_grant(BAD_REFRESH).into());
            }
            RefreshDecision::RevokeForReuse => {
                self.db
                    .revoke_family(&found.family_id, now, "reuse_detected")
                    .await?;
                self.metrics.refresh_reuse();
                tracing::warn!(username = ?found.username, client_id = ?found.client_id, "refresh token reuse detected; sign-in revoked");
                return Err(OAuthError::invalid_grant(BAD_REFRESH).into());
            }
            RefreshDecision::RevokeForDisabledUser => {
                self.db
                    .revoke_family(&found.family_id, now, "user_disabled")
                    .await?;
                return Err(OAuthError::invalid_grant(BAD_REFRESH).into());
            }
        }
        let username = Username::parse(&found.username)
            .map_err(|e| anyhow::anyhow!("stored username: {e}"))?;
        // §6: narrowing only; the new refresh token keeps the family's original scope.
        let family_scope =
            ScopeSet::parse(&found.scope).map_err(|e| anyhow::anyhow!("stored scope: {e}"))?;
        let scope = requested.unwrap_or(family_scope);
        if !scope.is_subset_of(family_scope) || !scope.is_subset_of(row.allowed()) {
            return Err(OAuthError::invalid_scope(
                "the requested scope exceeds the scope originally granted",
            )
            .into());
        }
        let refresh_token = random_token();
        let rotation = self
            .db
            .rotate_refresh_token(
                &found.family_id,
                found.token_generation,
                &sha256_hex(&refresh_token),
                now,
                (now + self.lifetimes.refresh_idle).min(found.family_expires_at),
            )
            .await?;
        if rotation == Rotation::LostRace {
            return Err(OAuthError::invalid_grant(BAD_REFRESH).into());
        }
        let claims = self.claims(
            TokenKind::User,
            username.as_str(),
            client,
            scope,
            Some(found.family_id),
            now,
        );
        self.respond(claims, Some(refresh_token)).await
    }
}
