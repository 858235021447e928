//! A visitor's session: an encrypted, HttpOnly cookie (AES-GCM, via actix-session's private
//! cookies) holding the CSRF token and, once a member of staff has signed in, their own tokens.
//! Tokens never reach a page, a URL or a log.

use actix_session::Session;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq as _;

use crate::error::WebError;
use crate::views::Account;

const CSRF: &str = "csrf";
const USER: &str = "user";

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
