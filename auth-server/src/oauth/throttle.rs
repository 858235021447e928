//! Throttling of failed authentications, with its state in the database so that it holds
//! across instances (RFC 6749 §2.3.1 and §4.3.2: "MUST protect ... against brute force").
//!
//! A subject (a username; a browser the user signed in from before, by its device id; or a
//! registered client id from one address) has a counter over a fixed window. Rows are only
//! ever keyed by something that exists: client ids that are not registered are counted in
//! memory (`service_kit::address_throttle`), and expired rows are purged on a timer
//! ([`Throttle::purge`]). For sign-ins, each attempt is counted *before* the password is checked, with one
//! atomic upsert, so 50 parallel guesses are all counted and at most the allowed number get
//! checked. A success resets the counter. Once the counter is over the limit every attempt is
//! refused, even with the right password, until the window that began with the first failure
//! ends: a soft, time-boxed lock that further attempts cannot extend.

use crate::store::Db;
use crate::store::throttle::Counter;

/// What is throttled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubjectKind {
    /// Sign-ins of one username from browsers it has not signed in from before.
    User,
    /// Sign-ins from one browser where the user signed in before (its device id).
    Device,
    /// Authentications of one client id from one address.
    Client,
}

impl SubjectKind {
    /// The label stored and reported in metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Device => "device",
            Self::Client => "client",
        }
    }
}

/// How many failures a window allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// Failures allowed in the window; the next attempt is refused.
    pub max_failures: i64,
    /// The window, in seconds.
    pub window_secs: i64,
}

impl ThrottlePolicy {
    /// Windows that began at or before this time have ended.
    pub fn floor(&self, now: i64) -> i64 {
        now - self.window_secs
    }

    /// Seconds until a window that began at `window_start` ends (at least 1).
    fn retry_after(&self, window_start: i64, now: i64) -> i64 {
        (window_start + self.window_secs - now).max(1)
    }
}

/// An attempt that was allowed to check its credentials.
#[derive(Debug)]
#[must_use = "report the outcome with succeeded() or failed()"]
pub struct Attempt {
    kind: SubjectKind,
    subject: String,
}

/// Counts attempts and decides whether they may proceed.
#[derive(Debug, Clone)]
pub struct Throttle {
    db: Db,
}

impl Throttle {
    /// A throttle over `db`.
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Counts an attempt before its credentials are checked: `Ok` to go on, `Err(seconds)`
    /// when the subject is locked, with the seconds until it unlocks.
    pub async fn begin(
        &self,
        kind: SubjectKind,
        subject: &str,
        policy: ThrottlePolicy,
        now: i64,
    ) -> anyhow::Result<Result<Attempt, i64>> {
        let counter = self
            .db
            .count_attempt(kind.as_str(), subject, now, policy.floor(now))
            .await?;
        if counter.failures > policy.max_failures {
            return Ok(Err(policy.retry_after(counter.window_start, now)));
        }
        Ok(Ok(Attempt {
            kind,
            subject: subject.to_owned(),
        }))
    }

    /// The credentials were right: reset the subject's counter.
    pub async fn succeeded(&self, attempt: Attempt) -> anyhow::Result<()> {
        self.db
            .reset_attempts(attempt.kind.as_str(), &attempt.subject)
            .await
    }

    /// The credentials were wrong: the counted attempt stays counted (the caller logs it,
    /// naming the subject only in a form safe to log).
    pub fn failed(&self, attempt: Attempt) {
        drop(attempt);
    }

    /// The credentials could not be checked (the server was too busy): the attempt is taken
    /// back, so that a refusal that changed nothing counts for nothing.
    pub async fn abandoned(&self, attempt: Attempt) -> anyhow::Result<()> {
        self.db
            .uncount_attempt(attempt.kind.as_str(), &attempt.subject)
            .await
    }

    /// Deletes every counter whose window ended before `now` under the longest `window_secs`;
    /// returns how many. Run on a timer, so that rows never outlive their use.
    pub async fn purge(&self, window_secs: i64, now: i64) -> anyhow::Result<u64> {
        self.db.purge_attempts(now - window_secs).await
    }

    /// For subjects whose guesses cannot usefully race (256-bit client secrets): `Err(seconds)`
    /// when `counter` (read beforehand, without counting anything, so that the success path
    /// stays free of writes) is already at the limit.
    pub fn check(counter: Option<Counter>, policy: ThrottlePolicy, now: i64) -> Result<(), i64> {
        match counter {
            Some(c) if c.failures >= policy.max_failures => {
                Err(policy.retry_after(c.window_start, now))
            }
            _ => Ok(()),
        }
    }

    /// Counts a failure recorded after the fact (see [`Throttle::check`]).
    pub async fn record_failure(
        &self,
        kind: SubjectKind,
        subject: &str,
        policy: ThrottlePolicy,
        now: i64,
    ) -> anyhow::Result<()> {
        self.db
            .count_attempt(kind.as_str(), subject, now, policy.floor(now))
            .await?;
        Ok(())
    }
}
