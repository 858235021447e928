//! Staff records as stored: who wrote, how a write ended, and the reads (by id, by username,
//! departments, history); the row type and its ETag are [`super::row`]'s. Writes are in [`super::writes`], search
//! in [`super::search`], the calling-thread read by id in [`super::local_reads`].

use anyhow::Context as _;
use sqlx::Row as _;

use super::Db;
use super::row::StaffRow;
use super::row::{COLUMNS, row_to_staff};
use crate::domain::staff::HistoryEntry;
use crate::domain::time::rfc3339;

/// Who wrote: the token's subject and client, and whether it was a user's or a client's.
#[derive(Debug, Clone, Copy)]
pub struct Actor<'a> {
    /// Username or client id.
    pub subject: &'a str,
    /// The client the token was issued to.
    pub client_id: &'a str,
    /// `user`, `client` (or `seed` for the demo data).
    pub kind: &'a str,
}

/// How a conditional write ended.
#[derive(Debug)]
pub enum Written {
    /// Written; the record as it now is.
    Done(Box<StaffRow>),
    /// No live record with that id.
    NotFound,
    /// The record is at another version: nothing was written. Its current ETag.
    Stale(String),
}

/// The username is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsernameTaken;

impl Db {
    /// The record `id`; retired ones only when `include_retired`.
    pub async fn staff(&self, id: i64, include_retired: bool) -> anyhow::Result<Option<StaffRow>> {
        // The fast path: on a SQLite file, read on this thread (see `local_reads` for why).
        let staff = match self.local_reads() {
            Some(local) => super::local_reads::staff(local, id)?,
            None => self.staff_from_pool(id).await?,
        };
        Ok(staff.filter(|s| include_retired || s.record.retired_at.is_none()))
    }

    /// The record `id`, live or retired, read through the pool (PostgreSQL, or SQLite when
    /// no calling-thread read is available).
    pub(super) async fn staff_from_pool(&self, id: i64) -> anyhow::Result<Option<StaffRow>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM staff s WHERE s.id = $1"
        )))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(row_to_staff).transpose()
    }

    /// The live record of `username`.
    pub async fn staff_by_username(&self, username: &str) -> anyhow::Result<Option<StaffRow>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM staff s WHERE s.username = $1 AND s.retired_at IS NULL"
        )))
        .bind(username)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(row_to_staff).transpose()
    }

    /// Departments of the live directory with their head counts, by name.
    pub async fn departments(&self) -> anyhow::Result<Vec<(String, i64)>> {
        let rows = sqlx::query(
            "SELECT department, live AS n FROM department_counts WHERE live > 0 ORDER BY department",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("department")?, r.try_get("n")?)))
            .collect()
    }

    /// The history of a record, oldest first (retired records included).
    pub async fn history(&self, id: i64) -> anyhow::Result<Vec<HistoryEntry>> {
        let rows = sqlx::query(
            "SELECT action, at, subject, client_id, token_kind, changes FROM staff_history WHERE staff_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let changes: String = r.try_get("changes")?;
                Ok(HistoryEntry {
                    action: r.try_get("action")?,
                    at: rfc3339(r.try_get("at")?),
                    subject: r.try_get("subject")?,
                    client_id: r.try_get("client_id")?,
                    token_kind: r.try_get("token_kind")?,
                    changes: serde_json::from_str(&changes)
                        .context("stored history is unreadable")?,
                })
            })
            .collect()
    }

    /// How many records there are, retired included.
    pub async fn staff_count(&self) -> anyhow::Result<i64> {
        Ok(sqlx::query("SELECT COUNT(*) AS n FROM staff")
            .fetch_one(self.pool())
            .await?
            .try_get("n")?)
    }
}
