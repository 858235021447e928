//! Ending sign-ins at the authorization server (RFC 7009), and trying again when it could not be
//! reached: a bounded queue of revocations retried in the background with backoff.
//!
//! Sign-out (and a session that lost a renewal) revokes at once. A token the authorization
//! server did not confirm revoked (no answer, or not 200) is queued and tried again after
//! 10 s, 30 s, 90 s, 4.5 min, 13.5 min and 40.5 min (about an hour in all, RFC 7009 §2.2.1: the
//! client should try later), then given up with an error in the log. The queue holds only
//! tokens of sessions that ended here, in memory, in this instance: a restart forgets it. It
//! holds at most its capacity; when full, the token queued longest ago is dropped with a
//! warning, so a flood of sign-outs during an outage costs bounded memory.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use secrecy::SecretString;
use tokio::sync::Notify;

use crate::user_tokens::{RevokeFailed, TokenHint, UserTokens};
use service_kit::clock::Clock;

mod queue;

pub use queue::{Pending, RETRY_DELAYS_SECS, RetryQueue, Scheduled};

/// Tokens queued at most (each a few hundred bytes).
pub const DEFAULT_CAPACITY: usize = 10_000;

/// How often the background task looks for retries that are due.
const TICK: Duration = Duration::from_secs(1);

/// Sends one revocation. [`UserTokens`] in the service; a stand-in in unit tests.
pub trait Revoker: Send + Sync + 'static {
    /// Revokes `token`; `Ok` only when the authorization server confirmed it (RFC 7009 §2.2).
    fn revoke<'a>(
        &'a self,
        token: &'a SecretString,
        hint: TokenHint,
    ) -> impl Future<Output = Result<(), RevokeFailed>> + Send + 'a;
}

impl Revoker for UserTokens {
    fn revoke<'a>(
        &'a self,
        token: &'a SecretString,
        hint: TokenHint,
    ) -> impl Future<Output = Result<(), RevokeFailed>> + Send + 'a {
        UserTokens::revoke(self, token, hint)
    }
}

/// The revocations of one website instance: tried at once, retried in the background.
pub struct Revocations {
    queue: Mutex<RetryQueue>,
    wake: Notify,
    pending: Gauge,
    given_up: Counter,
}

impl Revocations {
    /// Revocations queued up to `capacity`, counted in `pending` and `given_up`.
    pub fn new(capacity: usize, pending: Gauge, given_up: Counter) -> Self {
        Self {
            queue: Mutex::new(RetryQueue::new(capacity)),
            wake: Notify::new(),
            pending,
            given_up,
        }
    }

    fn queue(&self) -> std::sync::MutexGuard<'_, RetryQueue> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Tokens waiting for a retry.
    pub fn waiting(&self) -> usize {
        self.queue().len()
    }

    /// Revokes `tokens` of `username` now, in order (the refresh token first: it ends the whole
    /// sign-in); those not confirmed are queued for retries. `true` when all were confirmed.
    pub async fn revoke_now(
        &self,
        revoker: &impl Revoker,
        tokens: Vec<(SecretString, TokenHint)>,
        username: &str,
        now: i64,
    ) -> bool {
        let mut all = true;
        for (token, hint) in tokens {
            if let Err(e) = revoker.revoke(&token, hint).await {
                tracing::warn!(error = %e, username, hint = hint.as_str(), "could not revoke a token at the authorization server; it will be retried");
                self.retry(Pending::after_first_failure(token, hint, username), now);
                all = false;
            }
        }
        all
    }

    fn retry(&self, pending: Pending, now: i64) {
        let (scheduled, waiting) = {
            let mut queue = self.queue();
            let scheduled = queue.schedule(pending, now);
            (scheduled, queue.len())
        };
        self.pending.set(i64::try_from(waiting).unwrap_or(i64::MAX));
        match scheduled {
            Scheduled::Queued => {}
            Scheduled::DroppedOldest(oldest) => {
                self.given_up.inc();
                tracing::warn!(username = %oldest.username, hint = oldest.hint.as_str(), "the revocation queue is full: dropped the oldest token; its sign-in stays live until it expires");
            }
            Scheduled::GivenUp(last) => {
                self.given_up.inc();
                tracing::error!(username = %last.username, hint = last.hint.as_str(), attempts = last.failures, "gave up revoking a token: its sign-in stays live until it expires");
            }
        }
        self.wake.notify_one();
    }

    /// Tries once more every token due at `now`; failures are queued again (or given up).
    pub async fn retry_due(&self, revoker: &impl Revoker, now: i64) {
        let due = self.queue().take_due(now);
        if due.is_empty() {
            return;
        }
        for mut pending in due {
            match revoker.revoke(&pending.token, pending.hint).await {
                Ok(()) => {
                    tracing::info!(username = %pending.username, hint = pending.hint.as_str(), attempts = pending.failures + 1, "revoked a token on a retry")
                }
                Err(e) => {
                    tracing::warn!(error = %e, username = %pending.username, hint = pending.hint.as_str(), "a revocation retry failed");
                    pending.failures += 1;
                    self.retry(pending, now);
                }
            }
        }
        self.pending
            .set(i64::try_from(self.waiting()).unwrap_or(i64::MAX));
    }

    /// The background task: while tokens wait, looks every second for those due. Runs until
    /// aborted (when the website stops; what is still queued then is logged).
    pub async fn run(self: Arc<Self>, revoker: Arc<impl Revoker>, clock: Arc<dyn Clock>) {
        loop {
            if self.waiting() == 0 {
                // A permit stored by `notify_one` wakes this even if it came just before.
                self.wake.notified().await;
            }
            tokio::time::sleep(TICK).await;
            self.retry_due(revoker.as_ref(), clock.now()).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Refuses the first `failures` revocations, then confirms; records what it confirmed.
    struct Flaky {
        failures: Mutex<usize>,
        revoked: Mutex<Vec<(String, TokenHint)>>,
    }

    impl Revoker for Flaky {
        async fn revoke(&self, token: &SecretString, hint: TokenHint) -> Result<(), RevokeFailed> {
            let mut failures = self.failures.lock().unwrap();
            if *failures > 0 {
                *failures -= 1;
                return Err(RevokeFailed("connection refused".into()));
            }
            use secrecy::ExposeSecret as _;
            self.revoked
                .lock()
                .unwrap()
                .push((token.expose_secret().to_owned(), hint));
            Ok(())
        }
    }

    #[tokio::test]
    async fn tokens_not_confirmed_at_sign_out_are_sent_again_when_due() {
        let flaky = Flaky {
            failures: Mutex::new(3),
            revoked: Mutex::new(Vec::new()),
        };
        let revocations = Revocations::new(10, Gauge::default(), Counter::default());
        let tokens = vec![
            (SecretString::from("rt"), TokenHint::RefreshToken),
            (SecretString::from("at"), TokenHint::AccessToken),
        ];
        // The authorization server is down: both attempts fail and both tokens wait.
        assert!(!revocations.revoke_now(&flaky, tokens, "alice", 0).await);
        assert_eq!(revocations.waiting(), 2);
        revocations.retry_due(&flaky, 9).await;
        assert_eq!(revocations.waiting(), 2, "not yet due");
        // The first retry: the refresh token fails once more, the access token goes through.
        revocations.retry_due(&flaky, 10).await;
        assert_eq!(revocations.waiting(), 1);
        assert_eq!(
            *flaky.revoked.lock().unwrap(),
            [("at".to_owned(), TokenHint::AccessToken)]
        );
        // The refresh token's second retry is due 30 s after its second failure.
        revocations.retry_due(&flaky, 39).await;
        assert_eq!(revocations.waiting(), 1);
        revocations.retry_due(&flaky, 40).await;
        assert_eq!(revocations.waiting(), 0);
        assert_eq!(
            flaky.revoked.lock().unwrap()[1],
            ("rt".to_owned(), TokenHint::RefreshToken)
        );
        assert_eq!(revocations.given_up.get(), 0);
    }
}
