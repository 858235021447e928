//! The client side of the authorization code flow with PKCE (RFC 6749 §4.1, RFC 7636), the
//! decisions only: what a started sign-in keeps in the session ([`Pending`]), whether a
//! callback may sign anyone in ([`check`]), and where the person goes afterwards
//! ([`local_path`]). No HTTP types and no clock here: the time is passed in.
//!
//! The oauth2 crate makes the authorization URL, the `state` and the PKCE pair
//! (`crate::user_tokens`); the handlers are `crate::routes::code_flow`.

use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq as _;

mod return_path;

pub use return_path::{DEFAULT_RETURN_PATH, local_path};

/// How long a started sign-in may take, in seconds: the person reads the authorization
/// server's page and types their password; after this the callback is refused and they start
/// again.
pub const PENDING_LIFETIME_SECS: i64 = 600;

/// A sign-in started in this browser, kept in its (encrypted) session cookie until the
/// callback: the `state` sent (RFC 6749 §10.12: the callback must bring it back, binding the
/// answer to this session), the PKCE verifier (RFC 7636 §4.1: it never leaves the site until
/// the token request), and where to go afterwards.
#[derive(Clone, Serialize, Deserialize)]
pub struct Pending {
    /// The `state` sent to the authorization server.
    pub state: String,
    /// The PKCE code verifier.
    pub verifier: String,
    /// A local path to go to once signed in.
    pub return_to: String,
    /// When the sign-in started (Unix seconds).
    pub started_at: i64,
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pending")
            .field("return_to", &self.return_to)
            .field("started_at", &self.started_at)
            .finish_non_exhaustive()
    }
}

/// The parameters of the callback (RFC 6749 §4.1.2 and §4.1.2.1, RFC 9207 §2).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallbackParams {
    /// The authorization code, on success.
    pub code: Option<String>,
    /// The `state` sent back.
    pub state: Option<String>,
    /// The issuer that answered (RFC 9207).
    pub iss: Option<String>,
    /// The error code, on failure.
    pub error: Option<String>,
}

impl CallbackParams {
    /// Parses the callback's query string. A parameter given twice is refused (RFC 6749 §3.1);
    /// unknown parameters (`error_description`, `error_uri`…) are ignored: one service never
    /// shows another's human-readable text.
    pub fn parse(query: &str) -> Result<Self, Refusal> {
        let mut params = Self::default();
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            let slot = match name.as_ref() {
                "code" => &mut params.code,
                "state" => &mut params.state,
                "iss" => &mut params.iss,
                "error" => &mut params.error,
                _ => continue,
            };
            if slot.replace(value.into_owned()).is_some() {
                return Err(Refusal::Malformed);
            }
        }
        Ok(params)
    }
}

/// An error the authorization server sent back to the callback (RFC 6749 §4.1.2.1), from a
/// fixed set: the text shown never comes from the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Declined {
    /// `access_denied`: the person did not sign in or refused.
    AccessDenied,
    /// `temporarily_unavailable` or `server_error`: the authorization server could not serve.
    Unavailable,
    /// Any other code (`invalid_request`, `invalid_scope`, `unauthorized_client`…): this
    /// site's request was refused, which is this site's configuration to fix.
    RequestRefused,
}

/// Why a callback signs no one in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No sign-in was started in this browser (or it was already finished): a forged or
    /// replayed callback, or a session that ended meanwhile.
    NotStarted,
    /// The sign-in was started too long ago ([`PENDING_LIFETIME_SECS`]).
    Expired,
    /// `state` missing or not the one sent (RFC 6749 §10.12: cross-site request forgery).
    StateMismatch,
    /// `iss` missing or not the configured issuer (RFC 9207 §2.4: a mix-up attack).
    WrongIssuer,
    /// A parameter repeated, or neither a code nor an error.
    Malformed,
    /// The authorization server sent an error instead of a code.
    Declined(Declined),
}

impl Refusal {
    /// The page's HTTP status: 403 when the person declined, 503 when the authorization server
    /// could not serve, 400 otherwise.
    pub fn status(self) -> u16 {
        match self {
            Self::Declined(Declined::AccessDenied) => 403,
            Self::Declined(Declined::Unavailable) => 503,
            _ => 400,
        }
    }

    /// The page's heading and message.
    pub fn explained(self) -> (&'static str, &'static str) {
        match self {
            Self::NotStarted | Self::StateMismatch | Self::Malformed => (
                "This sign-in was not started here",
                "Nobody was signed in: this answer from the university login does not belong to a sign-in started in this browser. If you were signing in, start again from the sign-in page.",
            ),
            Self::Expired => (
                "This sign-in took too long",
                "Nobody was signed in: the sign-in was started more than ten minutes ago. Start again from the sign-in page.",
            ),
            Self::WrongIssuer => (
                "This answer came from the wrong login server",
                "Nobody was signed in: the answer did not come from the university login this site uses. Start again from the sign-in page.",
            ),
            Self::Declined(Declined::AccessDenied) => (
                "You were not signed in",
                "The sign-in was cancelled or refused at the university login. You can start again from the sign-in page.",
            ),
            Self::Declined(Declined::Unavailable) => (
                "The university login is unavailable",
                "The university login could not complete the sign-in right now. Please try again in a minute.",
            ),
            Self::Declined(Declined::RequestRefused) => (
                "The university login refused this site's request",
                "Nobody was signed in: the university login did not accept this site's request. Please try again later; if it persists, tell the site's administrators.",
            ),
        }
    }
}

/// What a good callback lets the site do: exchange `code` with `verifier`, then send the
/// person to `return_to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Granted {
    /// The authorization code.
    pub code: String,
    /// The PKCE verifier of this sign-in.
    pub verifier: String,
    /// Where to go once signed in (a local path).
    pub return_to: String,
}

/// Whether the callback `params` may sign anyone in, given the sign-in `pending` in this
/// browser's session, the configured `issuer` and the time `now`. The checks run in this
/// order, so that nothing the callback says is believed before it is known to answer this
/// browser's own request: a sign-in was started here and is recent; `state` is the one sent
/// (compared in constant time; RFC 6749 §10.12); `iss` is the issuer (RFC 9207 §2.4, compared
/// as strings: a mix-up defence, so also checked on error answers); then an error
/// (§4.1.2.1), else the code.
pub fn check(
    pending: Option<&Pending>,
    params: &CallbackParams,
    issuer: &str,
    now: i64,
) -> Result<Granted, Refusal> {
    let pending = pending.ok_or(Refusal::NotStarted)?;
    if now - pending.started_at > PENDING_LIFETIME_SECS || now < pending.started_at {
        return Err(Refusal::Expired);
    }
    let state_matches = params.state.as_deref().is_some_and(|state| {
        !pending.state.is_empty() && bool::from(state.as_bytes().ct_eq(pending.state.as_bytes()))
    });
    if !state_matches {
        return Err(Refusal::StateMismatch);
    }
    if params.iss.as_deref() != Some(issuer) {
        return Err(Refusal::WrongIssuer);
    }
    if let Some(error) = params.error.as_deref() {
        return Err(Refusal::Declined(match error {
            "access_denied" => Declined::AccessDenied,
            "temporarily_unavailable" | "server_error" => Declined::Unavailable,
            _ => Declined::RequestRefused,
        }));
    }
    match params.code.as_deref() {
        Some(code) if !code.is_empty() => Ok(Granted {
            code: code.to_owned(),
            verifier: pending.verifier.clone(),
            return_to: pending.return_to.clone(),
        }),
        _ => Err(Refusal::Malformed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISSUER: &str = "http://127.0.0.1:8082";
    const NOW: i64 = 1_800_000_000;

    fn pending() -> Pending {
        Pending {
            state: "state-1".into(),
            verifier: "verifier-1".into(),
            return_to: "/staff/7".into(),
            started_at: NOW - 30,
        }
    }

    fn answer(code: Option<&str>, state: Option<&str>, iss: Option<&str>) -> CallbackParams {
        CallbackParams {
            code: code.map(str::to_owned),
            state: state.map(str::to_owned),
            iss: iss.map(str::to_owned),
            error: None,
        }
    }

    #[test]
    fn the_right_state_and_issuer_give_the_code_and_the_sessions_verifier() {
        let granted = check(
            Some(&pending()),
            &answer(Some("c0de"), Some("state-1"), Some(ISSUER)),
            ISSUER,
            NOW,
        );
        assert_eq!(
            granted,
            Ok(Granted {
                code: "c0de".into(),
                verifier: "verifier-1".into(),
                return_to: "/staff/7".into(),
            })
        );
    }

    #[test]
    fn a_forged_missing_or_unstarted_state_signs_no_one_in() {
        let p = pending();
        let cases = [
            (Some(&p), answer(Some("c"), Some("forged"), Some(ISSUER))),
            (Some(&p), answer(Some("c"), None, Some(ISSUER))),
            (Some(&p), answer(Some("c"), Some(""), Some(ISSUER))),
        ];
        for (pending, params) in cases {
            assert_eq!(
                check(pending, &params, ISSUER, NOW),
                Err(Refusal::StateMismatch),
                "{params:?}"
            );
        }
        let no_session = answer(Some("c"), Some("state-1"), Some(ISSUER));
        assert_eq!(
            check(None, &no_session, ISSUER, NOW),
            Err(Refusal::NotStarted)
        );
    }

    #[test]
    fn a_wrong_or_missing_issuer_is_a_mix_up_and_refused_even_for_errors() {
        for iss in [
            None,
            Some("http://127.0.0.1:9999"),
            Some("http://127.0.0.1:8082/"),
        ] {
            let mut params = answer(Some("c"), Some("state-1"), iss);
            assert_eq!(
                check(Some(&pending()), &params, ISSUER, NOW),
                Err(Refusal::WrongIssuer)
            );
            params.error = Some("access_denied".into());
            assert_eq!(
                check(Some(&pending()), &params, ISSUER, NOW),
                Err(Refusal::WrongIssuer)
            );
        }
    }

    #[test]
    fn a_sign_in_started_too_long_ago_is_refused() {
        let params = answer(Some("c"), Some("state-1"), Some(ISSUER));
        let mut old = pending();
        old.started_at = NOW - PENDING_LIFETIME_SECS;
        assert!(check(Some(&old), &params, ISSUER, NOW).is_ok());
        old.started_at = NOW - PENDING_LIFETIME_SECS - 1;
        assert_eq!(
            check(Some(&old), &params, ISSUER, NOW),
            Err(Refusal::Expired)
        );
    }

    #[test]
    fn errors_are_told_apart_from_a_fixed_set() {
        let with_error = |error: &str| CallbackParams {
            error: Some(error.into()),
            ..answer(None, Some("state-1"), Some(ISSUER))
        };
        let declined = |error| check(Some(&pending()), &with_error(error), ISSUER, NOW);
        assert_eq!(
            declined("access_denied"),
            Err(Refusal::Declined(Declined::AccessDenied))
        );
        assert_eq!(
            declined("temporarily_unavailable"),
            Err(Refusal::Declined(Declined::Unavailable))
        );
        assert_eq!(
            declined("<script>"),
            Err(Refusal::Declined(Declined::RequestRefused))
        );
        assert_eq!(Refusal::Declined(Declined::AccessDenied).status(), 403);
        assert_eq!(Refusal::StateMismatch.status(), 400);
        assert_eq!(Refusal::WrongIssuer.status(), 400);
    }

    #[test]
    fn neither_code_nor_error_is_malformed_and_repeats_are_refused() {
        let params = answer(None, Some("state-1"), Some(ISSUER));
        assert_eq!(
            check(Some(&pending()), &params, ISSUER, NOW),
            Err(Refusal::Malformed)
        );
        assert_eq!(
            CallbackParams::parse("code=a&state=s&code=b"),
            Err(Refusal::Malformed)
        );
        assert_eq!(
            CallbackParams::parse("code=a%2Bb&state=s&iss=http%3A%2F%2Fx&error_description=hi"),
            Ok(CallbackParams {
                code: Some("a+b".into()),
                state: Some("s".into()),
                iss: Some("http://x".into()),
                error: None,
            })
        );
    }
}
