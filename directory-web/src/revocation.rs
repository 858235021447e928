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

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use secrecy::{ExposeSecret as _, SecretString};
use tokio::sync::Notify;

use crate::clock::Clock;
use crate::user_tokens::{RevokeFailed, TokenHint, UserTokens};

/// The wait before each retry, in seconds: ×3 from 10 s, six retries, about an hour in all.
pub const RETRY_DELAYS_SECS: [i64; 6] = [10, 30, 90, 270, 810, 2430];

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

/// A token that is still to be revoked.
pub struct Pending {
    token: SecretString,
    hint: TokenHint,
    /// Whose it is, for the log (never the token itself).
    username: String,
    /// Failed attempts so far.
    failures: usize,
    /// When the next attempt is due (clock seconds).
    due_at: i64,
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pending")
            .field("hint", &self.hint)
            .field("username", &self.username)
            .field("failures", &self.failures)
            .field("due_at", &self.due_at)
            .finish_non_exhaustive()
    }
}

impl Pending {
    /// A token whose first attempt has just failed.
    pub fn after_first_failure(token: SecretString, hint: TokenHint, username: &str) -> Self {
        Self {
            token,
            hint,
            username: username.to_owned(),
            failures: 1,
            due_at: 0,
        }
    }
}

/// What [`RetryQueue::schedule`] did.
#[derive(Debug)]
pub enum Scheduled {
    /// Queued for its next attempt.
    Queued,
    /// Queued; the queue was full, so the token queued longest ago was dropped.
    DroppedOldest(Pending),
    /// Every attempt has failed: not queued again.
    GivenUp(Pending),
}

/// The retry queue itself: bounded, oldest first, time passed in.
#[derive(Debug)]
pub struct RetryQueue {
    items: VecDeque<Pending>,
    capacity: usize,
}

impl RetryQueue {
    /// An empty queue of at most `capacity` tokens (at least one).
    pub fn new(capacity: usize) -> Self {
        Self {
            items: VecDeque::new(),
            capacity: capacity.max(1),
        }
    }

    /// Queues `pending` for its next attempt, due after the delay its failures so far call for;
    /// gives it up once it has failed every attempt.
    pub fn schedule(&mut self, mut pending: Pending, now: i64) -> Scheduled {
        let Some(delay) = pending
            .failures
            .checked_sub(1)
            .and_then(|i| RETRY_DELAYS_SECS.get(i))
        else {
            return Scheduled::GivenUp(pending);
        };
        // One token waits once: a sign-out replayed with an old copy of the cookie during an
        // outage must not fill the queue and push out other people's revocations.
        if pending.failures == 1
            && self.items.iter().any(|queued| {
                queued.hint == pending.hint
                    && queued.token.expose_secret() == pending.token.expose_secret()
            })
        {
            return Scheduled::Queued;
        }
        pending.due_at = now + delay;
        let dropped = if self.items.len() >= self.capacity {
            self.items.pop_front()
        } else {
            None
        };
        self.items.push_back(pending);
        match dropped {
            Some(oldest) => Scheduled::DroppedOldest(oldest),
            None => Scheduled::Queued,
        }
    }

    /// Takes out every token whose attempt is due at `now`.
    pub fn take_due(&mut self, now: i64) -> Vec<Pending> {
        let (due, waiting) = std::mem::take(&mut self.items)
            .into_iter()
            .partition(|p| p.due_at <= now);
        self.items = waiting;
        due.into()
    }

    /// Tokens waiting.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
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

    fn pending(name: &str) -> Pending {
        Pending::after_first_failure(
            SecretString::from(format!("token-of-{name}")),
            TokenHint::RefreshToken,
            name,
        )
    }

    #[test]
    fn retries_back_off_then_give_up() {
        let mut queue = RetryQueue::new(10);
        let mut now = 1_000;
        assert!(matches!(
            queue.schedule(pending("alice"), now),
            Scheduled::Queued
        ));
        let mut waits = Vec::new();
        loop {
            let start = now;
            let due = loop {
                let due = queue.take_due(now);
                if !due.is_empty() {
                    break due;
                }
                now += 1;
            };
            waits.push(now - start);
            let [mut p] = <[Pending; 1]>::try_from(due).unwrap();
            p.failures += 1;
            match queue.schedule(p, now) {
                Scheduled::Queued => {}
                Scheduled::GivenUp(p) => {
                    assert_eq!(p.failures, 1 + RETRY_DELAYS_SECS.len());
                    break;
                }
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(waits, RETRY_DELAYS_SECS.to_vec());
        assert!(queue.is_empty());
    }

    #[test]
    fn a_token_already_waiting_is_not_queued_twice() {
        let mut queue = RetryQueue::new(3);
        for now in 0..10 {
            queue.schedule(pending("replayed"), now);
        }
        queue.schedule(pending("other"), 10);
        assert_eq!(queue.len(), 2);
    }

    #[test]
    fn a_full_queue_drops_the_token_queued_longest_ago() {
        let mut queue = RetryQueue::new(2);
        queue.schedule(pending("a"), 0);
        queue.schedule(pending("b"), 1);
        match queue.schedule(pending("c"), 2) {
            Scheduled::DroppedOldest(p) => assert_eq!(p.username, "a"),
            other => panic!("{other:?}"),
        }
        assert_eq!(queue.len(), 2);
        let due: Vec<String> = queue
            .take_due(100)
            .into_iter()
            .map(|p| p.username)
            .collect();
        assert_eq!(due, ["b", "c"]);
    }

    #[test]
    fn only_due_tokens_are_taken() {
        let mut queue = RetryQueue::new(10);
        queue.schedule(pending("early"), 0);
        queue.schedule(pending("late"), 5);
        assert!(queue.take_due(9).is_empty());
        let due = queue.take_due(10);
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].username, "early");
        assert_eq!(queue.len(), 1);
    }

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
