//! A visitor's session: an encrypted, HttpOnly cookie (AES-GCM, via actix-session's private
//! cookies) holding the CSRF token, a sign-in started with the authorization code flow
//! (its `state` and PKCE verifier, until the callback), and, once a member of staff has signed
//! in, their own tokens and the grant they signed in with. Tokens never reach a page, a URL or
//! a log.

use actix_session::Session;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq as _;

use crate::code_flow::Pending;
use crate::error::WebError;
use crate::views::Account;

const CSRF: &str = "csrf";
const USER: &str = "user";
const CODE_FLOW: &str = "code_flow";

/// The grant a member of staff signed in with: either way they hold the same tokens with the
/// same scopes; only how they proved who they are differs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignInGrant {
    /// The password grant (RFC 6749 §4.3): they typed their password into this site. The
    /// default, for sessions made before the site remembered the grant.
    #[default]
    Password,
    /// The authorization code grant with PKCE (RFC 6749 §4.1, RFC 7636): they signed in on
    /// the authorization server's own page.
    AuthorizationCode,
}

impl SignInGrant {
    /// The grant's name on the wire (`grant_type`).
    pub fn grant_type(self) -> &'static str {
        match self {
            Self::Password => "password",
            Self::AuthorizationCode => "authorization_code",
        }
    }

    /// What it means for the person, in a sentence.
    pub fn sentence(self) -> &'static str {
        match self {
            Self::Password => {
                "You signed in with the password grant: you typed your password into this site, which sent it to the university login. RFC 9700 §2.4 now forbids this grant; it is kept here to compare."
            }
            Self::AuthorizationCode => {
                "You signed in with the authorization code grant: you typed your password on the university login's own page, so this site never saw your password."
            }
        }
    }
}

/// A signed-in member of staff, as kept in the session.
#[derive(Clone, Serialize, Deserialize)]
pub struct SignedIn {
    /// Their username (the tokens' subject).
    pub username: String,
    /// Their access token.
    pub access_token: String,
    /// When it expires (Unix seconds).
    pub access_expires_at: i64,
    /// Their refresh token, rotated on every use by the authorization server.
    pub refresh_token: String,
    /// Last request of the session (Unix seconds), for the idle timeout.
    pub last_seen: i64,
    /// A one-shot message for the next page ("Your profile was saved.").
    #[serde(default)]
    pub flash: Option<String>,
    /// The grant they signed in with (kept through renewals).
    #[serde(default)]
    pub grant: SignInGrant,
}

impl std::fmt::Debug for SignedIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignedIn")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

impl SignedIn {
    /// The access token, for a request.
    pub fn token(&self) -> SecretString {
        SecretString::from(self.access_token.clone())
    }
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn store<T: Serialize>(session: &Session, key: &str, value: &T) -> Result<(), WebError> {
    session
        .insert(key, value)
        .map_err(|e| WebError::Unexpected(anyhow::anyhow!("session write: {e}")))
}

/// The session's CSRF token, created on first use (synchronizer-token pattern).
pub fn csrf_token(session: &Session) -> Result<String, WebError> {
    if let Ok(Some(token)) = session.get::<String>(CSRF) {
        return Ok(token);
    }
    let token = random_token();
    store(session, CSRF, &token)?;
    Ok(token)
}

/// Refuses a form whose CSRF token is not the session's (compared in constant time).
pub fn check_csrf(session: &Session, submitted: &str) -> Result<(), WebError> {
    let expected = session
        .get::<String>(CSRF)
        .ok()
        .flatten()
        .unwrap_or_default();
    let same = !expected.is_empty() && bool::from(expected.as_bytes().ct_eq(submitted.as_bytes()));
    if same {
        Ok(())
    } else {
        Err(WebError::Forbidden)
    }
}

/// The signed-in member of staff, if any.
pub fn signed_in(session: &Session) -> Option<SignedIn> {
    session.get::<SignedIn>(USER).ok().flatten()
}

/// Stores the signed-in member of staff.
pub fn set_signed_in(session: &Session, user: &SignedIn) -> Result<(), WebError> {
    store(session, USER, user)
}

/// Remembers a sign-in started with the authorization code flow, replacing any earlier one
/// (a second tab's start makes the first tab's callback fail: it then starts again).
pub fn start_code_flow(session: &Session, pending: &Pending) -> Result<(), WebError> {
    store(session, CODE_FLOW, pending)
}

/// The sign-in started in this browser, removed from the session: a `state` and a verifier
/// serve one callback only, whatever its outcome.
/// One that cannot be read (written by an older version of the site) counts as none, and is
/// logged.
pub fn take_code_flow(session: &Session) -> Option<Pending> {
    match session.remove_as::<Pending>(CODE_FLOW)? {
        Ok(pending) => Some(pending),
        Err(e) => {
            tracing::warn!(error = %e, "an unreadable started sign-in was dropped");
            None
        }
    }
}

/// Starts a signed-in session: a new session identity (the cookie's content and nonce change;
/// the pre-sign-in CSRF token is replaced), then the user.
pub fn begin(session: &Session, user: &SignedIn) -> Result<(), WebError> {
    session.renew();
    session.remove(CSRF);
    csrf_token(session)?;
    set_signed_in(session, user)
}

/// Ends the session entirely: the cookie is removed.
pub fn end(session: &Session) {
    session.purge();
}

/// The visitor's account state for the page header. Public pages never create a session:
/// only a signed-in visitor has one.
pub fn account(session: &Session) -> Account {
    match signed_in(session) {
        Some(user) => Account {
            username: Some(user.username),
            // The page still renders; its sign-out form is then refused as a CSRF failure,
            // which is the safe way to fail. The cause is logged, not dropped.
            csrf: csrf_token(session).unwrap_or_else(|e| {
                tracing::error!(error = %e, "cannot keep a CSRF token in the session");
                String::new()
            }),
        },
        None => Account::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_remembers_its_grant_and_older_sessions_were_password_sign_ins() {
        let older = r#"{"username":"ajohnson","access_token":"at","access_expires_at":300,"refresh_token":"rt","last_seen":0}"#;
        let user: SignedIn = serde_json::from_str(older).unwrap();
        assert_eq!(user.grant, SignInGrant::Password);
        let code = SignedIn {
            grant: SignInGrant::AuthorizationCode,
            ..user
        };
        let kept: SignedIn = serde_json::from_str(&serde_json::to_string(&code).unwrap()).unwrap();
        assert_eq!(kept.grant, SignInGrant::AuthorizationCode);
        assert!(
            serde_json::to_string(&code)
                .unwrap()
                .contains("\"authorization_code\"")
        );
        assert_eq!(
            SignInGrant::AuthorizationCode.grant_type(),
            "authorization_code"
        );
        assert!(
            SignInGrant::AuthorizationCode
                .sentence()
                .contains("this site never saw your password")
        );
    }
}
