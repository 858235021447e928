//! The bounded retry queue of revocations: which token is tried again when, oldest first,
//! with the time passed in. Sending is [`super::Revocations`]'s job.

use std::collections::VecDeque;

use secrecy::{ExposeSecret as _, SecretString};

use crate::user_tokens::TokenHint;

/// The wait before each retry, in seconds: ×3 from 10 s, six retries, about an hour in all.
pub const RETRY_DELAYS_SECS: [i64; 6] = [10, 30, 90, 270, 810, 2430];

/// A token that is still to be revoked.
pub struct Pending {
    pub(super) token: SecretString,
    pub(super) hint: TokenHint,
    /// Whose it is, for the log (never the token itself).
    pub(super) username: String,
    /// Failed attempts so far.
    pub(super) failures: usize,
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
}
