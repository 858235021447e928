//! Throttling of failed authentications, with its state in the database so that it holds
//! across instances (RFC 6749 §2.3.1 and §4.3.2: "MUST protect ... against brute force").
//!
//! Each attempt is recorded *before* the credentials are checked and counted with the others
//! in the window, so that 50 parallel guesses get no more checks than 5 sequential ones.
//! A success forgets the subject's failures; a refused attempt is not kept, so a locked
//! account unlocks when its oldest failure leaves the window (a soft, time-boxed lock that an
//! attacker cannot extend indefinitely by hammering it).

use crate::store::Db;

use super::secrets::random_b64;

/// What is throttled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubjectKind {
    /// Sign-ins of one username.
    User,
    /// Authentications of one client id from one address.
    Client,
}

impl SubjectKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
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

/// An attempt that was allowed to check its credentials.
#[derive(Debug)]
#[must_use = "report the outcome with succeeded() or failed()"]
pub struct Attempt {
    kind: SubjectKind,
    subject: String,
}

/// Records attempts and decides whether they may proceed.
#[derive(Debug, Clone)]
pub struct Throttle {
    db: Db,
}

impl Throttle {
    /// A throttle over `db`.
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Begins an attempt: `Ok` to go on and check the credentials, `Err(seconds)` when the
    /// subject is locked, with the number of seconds until it unlocks.
    pub async fn begin(
        &self,
        kind: SubjectKind,
        subject: &str,
        policy: ThrottlePolicy,
        now: i64,
    ) -> anyhow::Result<Result<Attempt, i64>> {
        let id = random_b64(16);
        self.db
            .record_attempt(&id, kind.as_str(), subject, now)
            .await?;
        let since = now - policy.window_secs;
        let (count, oldest) = self
            .db
            .attempts_since(kind.as_str(), subject, since)
            .await?;
        if count > policy.max_failures {
            self.db.delete_attempt(&id).await?;
            let retry_after = (oldest.unwrap_or(now) + policy.window_secs - now).max(1);
            return Ok(Err(retry_after));
        }
        Ok(Ok(Attempt {
            kind,
            subject: subject.to_owned(),
        }))
    }

    /// The credentials were right: forget the subject's failures (and expired records).
    pub async fn succeeded(
        &self,
        attempt: Attempt,
        policy: ThrottlePolicy,
        now: i64,
    ) -> anyhow::Result<()> {
        self.db
            .clear_attempts(
                attempt.kind.as_str(),
                &attempt.subject,
                now - policy.window_secs,
            )
            .await
    }

    /// The credentials were wrong: the recorded attempt stays as a failure.
    pub fn failed(&self, attempt: Attempt) {
        tracing::warn!(kind = attempt.kind.as_str(), subject = %attempt.subject, "authentication failed");
    }
}
