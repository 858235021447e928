//! Failed-authentication counters, shared by every instance through the database.

use sqlx::Row as _;

use super::Db;

/// A subject's counter: failures since `window_start`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counter {
    /// Start of the current window.
    pub window_start: i64,
    /// Failures (and attempts still being checked) counted in it.
    pub failures: i64,
}

impl Db {
    /// Counts one more attempt for `(kind, subject)` in one atomic statement, starting a new
    /// window at `now` when the current one began at or before `window_floor`. Returns the
    /// counter after the increment: concurrent callers each see a distinct count.
    pub async fn count_attempt(
        &self,
        kind: &str,
        subject: &str,
        now: i64,
        window_floor: i64,
    ) -> anyhow::Result<Counter> {
        let row = sqlx::query(
            "INSERT INTO auth_throttle (subject_kind, subject, window_start, failures) VALUES ($1, $2, $3, 1) \
             ON CONFLICT (subject_kind, subject) DO UPDATE SET \
               failures = CASE WHEN auth_throttle.window_start > $4 THEN auth_throttle.failures + 1 ELSE 1 END, \
               window_start = CASE WHEN auth_throttle.window_start > $4 THEN auth_throttle.window_start ELSE $3 END \
             RETURNING window_start, failures",
        )
        .bind(kind)
        .bind(subject)
        .bind(now)
        .bind(window_floor)
        .fetch_one(self.pool())
        .await?;
        Ok(Counter {
            window_start: row.try_get("window_start")?,
            failures: row.try_get("failures")?,
        })
    }

    /// The counter of `(kind, subject)`, if its window began after `window_floor`.
    pub async fn attempt_counter(
        &self,
        kind: &str,
        subject: &str,
        window_floor: i64,
    ) -> anyhow::Result<Option<Counter>> {
        let row = sqlx::query(
            "SELECT window_start, failures FROM auth_throttle \
             WHERE subject_kind = $1 AND subject = $2 AND window_start > $3",
        )
        .bind(kind)
        .bind(subject)
        .bind(window_floor)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            Ok(Counter {
                window_start: r.try_get("window_start")?,
                failures: r.try_get("failures")?,
            })
        })
        .transpose()
    }

    /// Forgets the counter of `(kind, subject)` (after a success).
    pub async fn reset_attempts(&self, kind: &str, subject: &str) -> anyhow::Result<()> {
        sqlx::query("DELETE FROM auth_throttle WHERE subject_kind = $1 AND subject = $2")
            .bind(kind)
            .bind(subject)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Takes back one attempt of `(kind, subject)` that was counted but never checked.
    pub async fn uncount_attempt(&self, kind: &str, subject: &str) -> anyhow::Result<()> {
        sqlx::query(
            "UPDATE auth_throttle SET failures = failures - 1 \
             WHERE subject_kind = $1 AND subject = $2 AND failures > 0",
        )
        .bind(kind)
        .bind(subject)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Deletes every counter whose window began at or before `window_floor`; returns how many.
    pub async fn purge_attempts(&self, window_floor: i64) -> anyhow::Result<u64> {
        let purged = sqlx::query("DELETE FROM auth_throttle WHERE window_start <= $1")
            .bind(window_floor)
            .execute(self.pool())
            .await?
            .rows_affected();
        Ok(purged)
    }

    /// Counters stored now, of any kind (for tests and operators).
    pub async fn throttle_rows(&self) -> anyhow::Result<i64> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM auth_throttle")
            .fetch_one(self.pool())
            .await?;
        Ok(row.try_get("n")?)
    }
}
