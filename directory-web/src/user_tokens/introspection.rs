//! What the authorization server says of a member of staff's access token (RFC 7662, asked as
//! the client it was issued to): whether it is still active, and whom it was issued for.
//!
//! RFC 9068 §6: a client must not inspect the access tokens it is given. So the site learns
//! who signed in from this answer, the authorization server vouching for its own token, and
//! never from the token's decoded `sub`.

use secrecy::ExposeSecret as _;
use serde::Deserialize;

use super::{SignInError, UserTokens};
use crate::session::SignedIn;

/// The parts of an introspection response (RFC 7662 §2.2) the site acts on.
#[derive(Debug, Default, Deserialize)]
pub struct Introspected {
    /// Whether the token is active.
    #[serde(default)]
    pub active: bool,
    /// The resource owner the token was issued for (people's tokens only).
    #[serde(default)]
    pub username: Option<String>,
    /// The client it was issued to.
    #[serde(default)]
    pub client_id: Option<String>,
    /// This authorization server's own member: `user` or `client`.
    #[serde(default)]
    pub token_kind: Option<String>,
}

impl Introspected {
    /// The member of staff a new token was issued for, when the answer vouches for one: the
    /// token is active, a person's, and issued to `client_id` (this site). `None` otherwise.
    pub fn owner(self, client_id: &str) -> Option<String> {
        let vouched = self.active
            && self.token_kind.as_deref() == Some("user")
            && self.client_id.as_deref() == Some(client_id);
        self.username
            .filter(|username| vouched && !username.is_empty())
    }
}

impl UserTokens {
    /// Asks the authorization server about `access_token`.
    async fn introspect(&self, access_token: &str) -> Result<Introspected, SignInError> {
        let encode = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let response = self
            .http
            .post(&self.introspection_url)
            .headers(crate::outbound::request_id_header())
            .basic_auth(
                encode(&self.client_id),
                Some(encode(self.client_secret.expose_secret())),
            )
            .form(&[("token", access_token), ("token_type_hint", "access_token")])
            .send()
            .await
            .map_err(|e| SignInError::Unavailable(e.to_string()))?;
        if !response.status().is_success() {
            return Err(SignInError::Unavailable(format!(
                "introspection answered {}",
                response.status()
            )));
        }
        response
            .json()
            .await
            .map_err(|e| SignInError::Unavailable(e.to_string()))
    }

    /// Whether the authorization server still considers `user`'s access token active. This is
    /// what makes a sign-out, a password change or a disabled account end a session at once,
    /// even when an old cookie is replayed.
    pub async fn is_active(&self, user: &SignedIn) -> Result<bool, SignInError> {
        Ok(self.introspect(&user.access_token).await?.active)
    }

    /// The username a just-issued access token was issued for, as the authorization server
    /// says: the session's label, and the name the site shows. An answer that does not vouch
    /// for a person of this site is [`SignInError::Unavailable`]: nobody is signed in.
    pub(super) async fn owner_of(&self, access_token: &str) -> Result<String, SignInError> {
        self.introspect(access_token)
            .await?
            .owner(&self.client_id)
            .ok_or_else(|| {
                SignInError::Unavailable(
                    "introspection does not vouch for the new token as a person's".into(),
                )
            })
    }

    /// [`Self::owner_of`] a fresh token response's access token. When the owner cannot be
    /// learnt the sign-in is not kept, so its `refresh` token is revoked (best effort: a
    /// failure is logged, and the token then expires unused) rather than left live with no
    /// holder.
    pub(super) async fn owner_or_revoke(
        &self,
        access: &str,
        refresh: Option<&oauth2::RefreshToken>,
    ) -> Result<String, SignInError> {
        let owner = self.owner_of(access).await;
        if let (Err(_), Some(refresh)) = (&owner, refresh) {
            let token = secrecy::SecretString::from(refresh.secret().to_owned());
            if let Err(e) = self.revoke(&token, super::TokenHint::RefreshToken).await {
                tracing::warn!(error = %e, "a sign-in whose owner could not be learnt was not revoked; its refresh token expires unused");
            }
        }
        owner
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(json: &str) -> Introspected {
        serde_json::from_str(json).unwrap_or_default()
    }

    #[test]
    fn only_an_active_persons_token_of_this_site_names_its_owner() {
        let vouched = r#"{"active":true,"username":"ajohnson","sub":"ajohnson","client_id":"directory-web","token_kind":"user","scope":"directory:read profile:write"}"#;
        assert_eq!(
            answer(vouched).owner("directory-web").as_deref(),
            Some("ajohnson")
        );
        for refused in [
            r#"{"active":false}"#,
            r#"{"active":false,"username":"ajohnson","client_id":"directory-web","token_kind":"user"}"#,
            r#"{"active":true,"username":"ajohnson","client_id":"other-app","token_kind":"user"}"#,
            r#"{"active":true,"username":"directory-web","client_id":"directory-web","token_kind":"client"}"#,
            r#"{"active":true,"client_id":"directory-web","token_kind":"user"}"#,
            r#"{"active":true,"username":"","client_id":"directory-web","token_kind":"user"}"#,
        ] {
            assert_eq!(answer(refused).owner("directory-web"), None, "{refused}");
        }
    }

    #[test]
    fn the_owner_is_the_answers_username_not_its_sub() {
        // `sub` is the token's own subject; RFC 7662's `username` is the resource owner's
        // human-readable name, which this authorization server gives for people's tokens only.
        let answer = answer(
            r#"{"active":true,"username":"ajohnson","sub":"someone-else","client_id":"directory-web","token_kind":"user"}"#,
        );
        assert_eq!(answer.owner("directory-web").as_deref(), Some("ajohnson"));
    }
}
