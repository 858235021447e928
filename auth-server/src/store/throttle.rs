//! Failed-authentication records, shared by every instance through the database.

use sqlx::Row as _;

use super::Db;

impl Db {
    /// Records an attempt for `(kind, subject)` at `at`.
    pub async fn record_attempt(
        &self,
        attempt_id: &str,
        kind: &str,
        subject: &str,
        at: i64,
    ) -> anyhow::Result<()> {
        sqlx::query("INSERT INTO auth_failures (attempt_id, subject_kind, subject, at) VALUES ($1, $2, $3, $4)")
            .bind(attempt_id)
            .bind(kind)
            .bind(subject)
            .bind(at)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// How many attempts `(kind, subject)` has since `since`, and the oldest one's time.
    pub async fn attempts_since(
        &self,
        kind: &str,
        subject: &str,
        since: i64,
    ) -> anyhow::Result<(i64, Option<i64>)> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n, MIN(at) AS oldest FROM auth_failures \
             WHERE subject_kind = $1 AND subject = $2 AND at > $3",
        )
        .bind(kind)
        .bind(subject)
        .bind(since)
        .fetch_one(self.pool())
        .await?;
        Ok((row.try_get("n")?, row.try_get("oldest")?))
    }

    /// Forgets one attempt.
    pub async fn delete_attempt(&self, attempt_id: &str) -> anyhow::Result<()> {
        sqlx::query("DELETE FROM auth_failures WHERE attempt_id = $1")
            .bind(attempt_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Forgets every attempt of `(kind, subject)` (after a success) and every record older
    /// than `before` (housekeeping).
    pub async fn clear_attempts(
        &self,
        kind: &str,
        subject: &str,
        before: i64,
    ) -> anyhow::Result<()> {
        sqlx::query(
            "DELETE FROM auth_failures WHERE (subject_kind = $1 AND subject = $2) OR at <= $3",
        )
        .bind(kind)
        .bind(subject)
        .bind(before)
        .execute(self.pool())
        .await?;
        Ok(())
    }
}
