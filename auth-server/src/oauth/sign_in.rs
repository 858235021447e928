//! Checking a person's password, shared by the two ways a person signs in: the `password`
//! grant (the website sends the password, RFC 6749 §4.3) and the authorization server's own
//! sign-in page of the authorization code flow (§4.1.1). Both go through the same Argon2id
//! hashing threads, the same throttling and the same device-token rules, so neither is a way
//! around the other's protection.

use secrecy::SecretString;
use service_kit::liveness::Liveness;

use super::error::{ErrorCode, OAuthError};
use super::service::TokenService;
use super::throttle::SubjectKind;
use super::username::Username;
use crate::error::Result;
use crate::store::clients::ClientRecord;
use crate::store::users::UserRecord;

/// The one answer to every failed sign-in, whatever failed.
pub const BAD_CREDENTIALS: &str = "the username or password is incorrect";

/// A person whose password was just checked.
#[derive(Debug)]
pub struct SignedIn {
    /// Who signed in.
    pub user: UserRecord,
    /// The device id of a valid device token the attempt carried, if any.
    pub device_id: Option<String>,
}

impl TokenService {
    /// Checks `password` for `raw_username` on the hashing threads under throttling.
    ///
    /// Which lock applies: an attempt that carries a valid device token for this user and
    /// client (a browser the person signed in from before, see [`super::device`]) is counted
    /// against that device's own budget and ignores the username's lock, which strangers may
    /// have caused; any other attempt is counted against the username (RFC 6749 §4.3.2 and
    /// §10.10: the server MUST protect the endpoint against brute force).
    ///
    /// Refusals: `invalid_grant` with [`BAD_CREDENTIALS`] for an unknown user, a wrong
    /// password or a disabled account alike; `invalid_grant` with `retry_after` when throttled;
    /// [`crate::error::Error::Overloaded`] when no hashing place is free.
    pub async fn check_password(
        &self,
        client: &ClientRecord,
        raw_username: &str,
        password: &SecretString,
        device_token: Option<&str>,
        requester: Option<&Liveness>,
    ) -> Result<SignedIn> {
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
        Ok(SignedIn { user, device_id })
    }

    /// A device token for the browser `signed` signed in from (its standing carries on when
    /// it had one), through `client`.
    pub fn device_token(
        &self,
        signed: &SignedIn,
        client: &ClientRecord,
        now: i64,
    ) -> anyhow::Result<String> {
        self.devices.issue(
            signed.device_id.as_deref(),
            signed.user.username.as_str(),
            client.client_id.as_str(),
            now,
        )
    }
}
