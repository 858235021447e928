//! The `password` grant (RFC 6749 §4.3): a person signs in with a username and password,
//! checked with Argon2id on the hashing threads under throttling, and gets an access token,
//! a refresh token (a new sign-in: a refresh-token family) and a device token.

use secrecy::SecretString;
use service_kit::liveness::Liveness;

use super::TokenResponse;
use crate::error::Result;
use crate::oauth::error::{ErrorCode, OAuthError};
use crate::oauth::policy::GrantPolicy;
use crate::oauth::scope::ScopeSet;
use crate::oauth::secrets::{random_b64, random_token, sha256_hex};
use crate::oauth::service::TokenService;
use crate::oauth::throttle::SubjectKind;
use crate::oauth::tokens::TokenKind;
use crate::oauth::username::Username;
use crate::store::clients::ClientRecord;
use crate::store::refresh::NewFamily;

/// The one answer to every failed sign-in, whatever failed.
const BAD_CREDENTIALS: &str = "the username or password is incorrect";

impl TokenService {
    /// RFC 6749 §4.3: the resource owner's password, checked with Argon2id under throttling.
    ///
    /// Which lock applies: an attempt that carries a valid device token for this user and
    /// client (a browser the person signed in from before, see [`crate::oauth::device`]) is counted
    /// against that device's own budget and ignores the username's lock, which strangers may
    /// have caused; any other attempt is counted against the username (RFC 6749 §4.3.2: the
    /// server MUST protect the endpoint against brute force).
    #[allow(
        clippy::too_many_arguments,
        reason = "a grant receives exactly its parameters, one argument each"
    )]
    pub(super) async fn password(
        &self,
        client: &ClientRecord,
        row: &GrantPolicy,
        raw_username: &str,
        password: &SecretString,
        scope: Option<ScopeSet>,
        device_token: Option<&str>,
        requester: Option<&Liveness>,
    ) -> Result<TokenResponse> {
        let scope = row.grant_scope(scope)?;
        // A place for the hash first: a sign-in refused for want of one has changed nothing
        // (no throttle row written or counted), so a flood beyond capacity costs no writes.
        let admission = self.hashing.admit()?;
        let Ok(username) = Username::parse_login(raw_username) else {
            // Cannot be a user; still cost one hash, like any unknown user.
            self.hashing
                .verify(admission, password, None, requester)
                .await?;
            tracing::warn!(username_hash = %self.devices.pseudonym(raw_username), "sign-in failed: no such user");
            return Err(OAuthError::invalid_grant(BAD_CREDENTIALS).into());
        };
        let now = self.clock.now();
        let device_id = device_token.and_then(|token| {
            self.devices
                .verify(token, username.as_str(), client.client_id.as_str(), now)
        });
        let (kind, subject, policy) = match &device_id {
            Some(id) => (SubjectKind::Device, id.as_str(), self.device_throttle),
            None => (SubjectKind::User, username.as_str(), self.user_throttle),
        };
        let attempt = match self.throttle.begin(kind, subject, policy, now).await? {
            Ok(attempt) => attempt,
            Err(retry_after) => {
                self.metrics.throttled(kind.as_str());
                tracing::warn!(username_hash = %self.devices.pseudonym(username.as_str()), kind = kind.as_str(), "sign-in throttled");
                let description = match kind {
                    SubjectKind::Device => {
                        "too many failed sign-in attempts from this device; try again later"
                    }
                    _ => "too many failed sign-in attempts for this account; try again later",
                };
                return Err(OAuthError::throttled(
                    ErrorCode::InvalidGrant,
                    description,
                    retry_after,
                )
                .into());
            }
        };
        let checked = async {
            let user = self.db.user(&username).await?;
            let verified = self
                .hashing
                .verify(
                    admission,
                    password,
                    user.as_ref().map(|u| u.password_hash.as_str()),
                    requester,
                )
                .await?;
            anyhow::Ok((user, verified))
        }
        .await;
        let (user, verified) = match checked {
            Ok(found) => found,
            Err(e) => {
                // Nothing was checked (the database failed, or the client hung up and the
                // hash was skipped): the attempt counts for nothing.
                self.throttle.abandoned(attempt).await?;
                return Err(e.into());
            }
        };
        let user = match user {
            Some(u) if verified && !u.disabled => u,
            other => {
                self.throttle.failed(attempt);
                // A username that exists is logged as such; anything else only as a keyed hash,
                // since it may be a password typed into the wrong box.
                match &other {
                    Some(u) => {
                        tracing::warn!(username = ?u.username.as_str(), known_device = device_id.is_some(), "sign-in failed: wrong password or disabled account")
                    }
                    None => {
                        tracing::warn!(username_hash = %self.devices.pseudonym(username.as_str()), "sign-in failed: no such user")
                    }
                }
                return Err(OAuthError::invalid_grant(BAD_CREDENTIALS).into());
            }
        };
        self.throttle.succeeded(attempt).await?;
        tracing::info!(username = ?user.username.as_str(), client_id = ?client.client_id.as_str(), known_device = device_id.is_some(), "user signed in");

        let family_id = random_b64(16);
        let refresh_token = random_token();
        let family_expires = now + self.lifetimes.refresh_max;
        self.db
            .create_family(&NewFamily {
                family_id: &family_id,
                client_id: client.client_id.as_str(),
                username: user.username.as_str(),
                scope: &scope.to_string(),
                created_at: now,
                expires_at: family_expires,
                token_hash: &sha256_hex(&refresh_token),
                token_expires_at: (now + self.lifetimes.refresh_idle).min(family_expires),
            })
            .await?;
        let device_token = self.devices.issue(
            device_id.as_deref(),
            user.username.as_str(),
            client.client_id.as_str(),
            now,
        )?;
        let claims = self.claims(
            TokenKind::User,
            user.username.as_str(),
            client,
            scope,
            Some(family_id),
            now,
        );
        let mut response = self.respond(claims, Some(refresh_token)).await?;
        response.device_token = Some(device_token);
        Ok(response)
    }
}
