//! When a signed-in session's cookie is written, and its tokens renewed at most once at a time.
//!
//! The refresh token is rotated on every use (RFC 6749 §6) and presenting a spent one is
//! treated as theft: the authorization server revokes the whole sign-in (RFC 9700 §4.14.2). A
//! session lives in the browser's cookie, so two things must never happen:
//!
//! - a response writing back a cookie that holds a refresh token another request has just
//!   spent (a slow tab would restore it, and the next renewal would look like reuse): the cookie
//!   is written only when its contents change ([`plan`]);
//! - two requests of one session renewing at once with the same refresh token: renewals are
//!   single-flight per refresh token in this instance ([`Renewals`]); the others wait for the one
//!   renewal and share its tokens.
//!
//! The idle timeout is kept coarse so that an ordinary page view changes nothing: `last_seen`
//! moves only when it is [`touch_granularity`] old (a minute by default), and not in the
//! minute before the access token's renewal, which writes the cookie anyway. A session may so
//! end up to two such steps (two minutes) before its idle timeout.
//!
//! What this cannot do: an old copy of the cookie presented after its refresh token was spent
//! (a response that never reached the browser, another instance's renewal, a stolen cookie)
//! is, to the authorization server, reuse; it ends the sign-in, which is its job.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use secrecy::SecretString;
use sha2::{Digest as _, Sha256};
use tokio::sync::watch;

use crate::revocation::Revocations;
use crate::session::SignedIn;
use crate::user_tokens::{RefreshError, TokenHint, UserTokens};
use service_kit::clock::Clock;

/// Renew the access token when it expires within this many seconds.
pub const RENEW_MARGIN_SECS: i64 = 10;

/// Renewals in flight at most in one instance (one per signed-in session renewing right now);
/// beyond it a page answers 503 rather than renew without the single-flight guarantee.
pub const MAX_RENEWALS_IN_FLIGHT: usize = 4096;

/// What a request does with its signed-in session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// Unused for longer than the idle timeout: the session ends.
    IdledOut,
    /// The access token is (about to be) expired: renew it, and write the cookie.
    Renew,
    /// `last_seen` is old enough to move: write the cookie.
    Touch,
    /// Nothing changes: no cookie is written.
    Keep,
}

/// How old `last_seen` must be before a request moves it: a minute, or a quarter of the idle
/// timeout when that is shorter.
pub fn touch_granularity(idle_timeout_secs: i64) -> i64 {
    (idle_timeout_secs / 4).clamp(1, 60)
}

/// What to do with `user`'s session at `now`.
pub fn plan(user: &SignedIn, now: i64, idle_timeout_secs: i64) -> Plan {
    let step = touch_granularity(idle_timeout_secs);
    let renew_in = user.access_expires_at - now - RENEW_MARGIN_SECS;
    if now - user.last_seen > idle_timeout_secs {
        Plan::IdledOut
    } else if renew_in <= 0 {
        Plan::Renew
    } else if now - user.last_seen >= step && renew_in > step {
        Plan::Touch
    } else {
        Plan::Keep
    }
}

/// How a renewal ended, shared by every request that waited for it.
#[derive(Debug, Clone)]
pub enum Renewal {
    /// New tokens.
    Renewed(SignedIn),
    /// The authorization server refused: the sign-in is over here (what the session held has
    /// been revoked when the refusal was `invalid_grant`).
    Over,
    /// The authorization server could not be reached; the session is kept.
    Unavailable(String),
}

type Key = [u8; 32];
type InFlight = Mutex<HashMap<Key, watch::Receiver<Option<Renewal>>>>;

/// Renewals in flight, one per refresh token. An entry exists only while its renewal runs,
/// and only a signed-in session with a valid encrypted cookie can add one, so strangers cannot
/// grow it; it is bounded besides.
pub struct Renewals {
    users: Arc<UserTokens>,
    revocations: Arc<Revocations>,
    clock: Arc<dyn Clock>,
    in_flight: Arc<InFlight>,
    capacity: usize,
}

impl Renewals {
    /// Renewals through `users`; what a lost renewal held is revoked through `revocations`.
    pub fn new(
        users: Arc<UserTokens>,
        revocations: Arc<Revocations>,
        clock: Arc<dyn Clock>,
        capacity: usize,
    ) -> Self {
        Self {
            users,
            revocations,
            clock,
            in_flight: Arc::new(Mutex::new(HashMap::new())),
            capacity,
        }
    }

    /// Renewals running now.
    pub fn in_flight(&self) -> usize {
        lock(&self.in_flight).len()
    }

    /// New tokens for `user`: joins the renewal of the same refresh token if one is running,
    /// else starts one. The renewal runs in its own task, so it completes (and its tokens reach
    /// whoever waits) even if the request that started it goes away.
    pub async fn renew(&self, user: &SignedIn) -> Renewal {
        let key: Key = Sha256::digest(user.refresh_token.as_bytes()).into();
        let mut done = {
            let mut in_flight = lock(&self.in_flight);
            if let Some(running) = in_flight.get(&key) {
                running.clone()
            } else if in_flight.len() >= self.capacity {
                return Renewal::Unavailable("too many renewals in flight".into());
            } else {
                let (tx, rx) = watch::channel(None);
                in_flight.insert(key, rx.clone());
                tokio::spawn(run(
                    self.users.clone(),
                    self.revocations.clone(),
                    self.clock.clone(),
                    self.in_flight.clone(),
                    key,
                    user.clone(),
                    tx,
                ));
                rx
            }
        };
        match done.wait_for(Option::is_some).await {
            Ok(renewal) => renewal
                .clone()
                .unwrap_or_else(|| Renewal::Unavailable("no renewal".into())),
            Err(_) => Renewal::Unavailable("the renewal was abandoned".into()),
        }
    }
}

fn lock(
    in_flight: &InFlight,
) -> std::sync::MutexGuard<'_, HashMap<Key, watch::Receiver<Option<Renewal>>>> {
    in_flight.lock().unwrap_or_else(|p| p.into_inner())
}

/// One renewal: refresh, and when the authorization server says `invalid_grant` (the token is
/// spent, expired or revoked: this renewal lost), revoke what the session still holds.
async fn run(
    users: Arc<UserTokens>,
    revocations: Arc<Revocations>,
    clock: Arc<dyn Clock>,
    in_flight: Arc<InFlight>,
    key: Key,
    user: SignedIn,
    done: watch::Sender<Option<Renewal>>,
) {
    let renewal = match users.refresh(&user).await {
        Ok(renewed) => Renewal::Renewed(renewed),
        Err(RefreshError::Refused { invalid_grant }) => {
            if invalid_grant {
                tracing::warn!(username = %user.username, "the refresh token was refused (invalid_grant): ending the session and revoking what it held");
                revocations
                    .revoke_now(
                        users.as_ref(),
                        held_tokens(&user),
                        &user.username,
                        clock.now(),
                    )
                    .await;
            }
            Renewal::Over
        }
        Err(RefreshError::Unavailable(e)) => Renewal::Unavailable(e),
    };
    // Published before the entry goes: a request arriving in between still gets these tokens.
    done.send_replace(Some(renewal));
    lock(&in_flight).remove(&key);
}

/// What a session holds, in the order to revoke it: the refresh token first (RFC 7009 §2.1: it
/// ends the sign-in and, with it, its access tokens), then the access token.
pub fn held_tokens(user: &SignedIn) -> Vec<(SecretString, TokenHint)> {
    vec![
        (
            SecretString::from(user.refresh_token.clone()),
            TokenHint::RefreshToken,
        ),
        (user.token(), TokenHint::AccessToken),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(access_expires_at: i64, last_seen: i64) -> SignedIn {
        SignedIn {
            username: "ajohnson".into(),
            access_token: "at".into(),
            access_expires_at,
            refresh_token: "rt".into(),
            last_seen,
            flash: None,
            grant: crate::session::SignInGrant::Password,
        }
    }

    #[test]
    fn a_page_view_changes_the_session_only_when_something_is_due() {
        // Signed in at 0: the access token expires at 300, idle timeout 1800.
        assert_eq!(plan(&user(300, 0), 0, 1800), Plan::Keep);
        assert_eq!(plan(&user(300, 0), 59, 1800), Plan::Keep);
        assert_eq!(plan(&user(300, 0), 60, 1800), Plan::Touch);
        // The minute before the renewal (due at 290) moves nothing: the renewal will.
        assert_eq!(plan(&user(300, 0), 229, 1800), Plan::Touch);
        assert_eq!(plan(&user(300, 0), 230, 1800), Plan::Keep);
        assert_eq!(plan(&user(300, 0), 289, 1800), Plan::Keep);
        assert_eq!(plan(&user(300, 0), 290, 1800), Plan::Renew);
        assert_eq!(plan(&user(300, 200), 5000, 1800), Plan::IdledOut);
        assert_eq!(plan(&user(300, 0), 1800, 1800), Plan::Renew);
        assert_eq!(plan(&user(300, 0), 1801, 1800), Plan::IdledOut);
    }

    #[test]
    fn a_short_idle_timeout_moves_last_seen_more_often() {
        assert_eq!(touch_granularity(1800), 60);
        assert_eq!(touch_granularity(120), 30);
        assert_eq!(touch_granularity(2), 1);
        assert_eq!(plan(&user(300, 0), 30, 120), Plan::Touch);
    }
}
