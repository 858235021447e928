//! Writes of staff records: creation, compare-and-set update and retirement, each with its
//! history entry in the same transaction, so nothing is half-written.

use anyhow::Context as _;
use sqlx::Row as _;

use super::row::{COLUMNS, StaffRow, row_to_staff};
use super::staff::{Actor, UsernameTaken, Written};
use super::{Backend, Db, is_unique_violation};
use crate::domain::field::Field;
use crate::domain::name::sort_key;
use crate::domain::patch::StaffDiff;
use crate::domain::staff::{FieldChange, NewStaff};
use crate::domain::time::rfc3339;

impl Db {
    /// A transaction for a read-then-write (shared with [`super::photos`]).
    pub(super) async fn write_transaction(
        &self,
    ) -> anyhow::Result<sqlx::Transaction<'static, sqlx::Any>> {
        // SQLite: take the write lock at BEGIN, so a read-then-write transaction can never
        // fail to upgrade its lock under concurrency. PostgreSQL: row locks do the work.
        Ok(match self.backend {
            Backend::Sqlite => self.pool().begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool().begin().await?,
        })
    }

    /// Creates a record and its `create` history entry, in one transaction.
    pub async fn create_staff(
        &self,
        new: &NewStaff,
        actor: Actor<'_>,
        now: i64,
    ) -> anyhow::Result<Result<StaffRow, UsernameTaken>> {
        let mut tx = self.write_transaction().await?;
        let created = insert_staff(&mut tx, new, actor, now).await?;
        if created.is_ok() {
            tx.commit().await?;
        }
        Ok(created)
    }

    /// Creates many records in one transaction (bulk loads: demo data, benchmarks); a taken
    /// username is skipped. Returns how many were created.
    pub async fn create_staff_many(
        &self,
        records: &[NewStaff],
        actor: Actor<'_>,
        now: i64,
    ) -> anyhow::Result<usize> {
        let mut tx = self.write_transaction().await?;
        let mut created = 0;
        for new in records {
            if insert_staff(&mut tx, new, actor, now).await?.is_ok() {
                created += 1;
            }
        }
        tx.commit().await?;
        Ok(created)
    }

    /// Applies `diff` (a [`crate::domain::patch::StaffPatch::diff`] of the record at
    /// `expected_version`) if the record is live and still at that version; compare-and-set
    /// and history in one transaction, so concurrent writers with the same ETag get exactly
    /// one success and nothing is half-written.
    pub async fn update_staff(
        &self,
        id: i64,
        expected_version: i64,
        diff: &StaffDiff,
        actor: Actor<'_>,
        now: i64,
    ) -> anyhow::Result<Written> {
        let mut tx = self.write_transaction().await?;
        let Some(current) = current_for_write(&mut tx, id).await? else {
            return Ok(Written::NotFound);
        };
        if current.version != expected_version {
            return Ok(Written::Stale(current.etag()));
        }
        let value = |field: Field| diff.after().value(field).to_owned();
        let updated = sqlx::query(
            "UPDATE staff SET display_name = $1, family_name = $2, sort_key = $3, job_title = $4, \
             department = $5, email = $6, phone = $7, office = $8, bio = $9, research_interests = $10, \
             version = version + 1, updated_at = $11 \
             WHERE id = $12 AND version = $13 AND retired_at IS NULL",
        )
        .bind(value(Field::DisplayName))
        .bind(value(Field::FamilyName))
        .bind(sort_key(
            diff.after().value(Field::FamilyName),
            diff.after().value(Field::DisplayName),
        ))
        .bind(value(Field::JobTitle))
        .bind(value(Field::Department))
        .bind(value(Field::Email))
        .bind(value(Field::Phone))
        .bind(value(Field::Office))
        .bind(value(Field::Bio))
        .bind(value(Field::ResearchInterests))
        .bind(now)
        .bind(id)
        .bind(expected_version)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if updated != 1 {
            // Another writer committed between our read and our write (PostgreSQL).
            tx.rollback().await?;
            let current = self.staff(id, false).await?;
            return Ok(current.map_or(Written::NotFound, |c| Written::Stale(c.etag())));
        }
        record_history(&mut tx, id, "update", actor, diff.changes(), now).await?;
        let staff = current_for_write(&mut tx, id)
            .await?
            .context("the record vanished mid-update")?;
        tx.commit().await?;
        Ok(Written::Done(Box::new(staff)))
    }

    /// Gives every record without a sort key its key (the records from before migration
    /// 0004, which added the key; none after the first start since), a thousand per
    /// transaction. Several instances starting at once compute the same keys, and a record
    /// already keyed is left alone. Returns how many were keyed.
    pub(super) async fn fill_sort_keys(&self) -> anyhow::Result<u64> {
        let mut keyed = 0;
        loop {
            let rows = sqlx::query(
                "SELECT id, display_name, family_name FROM staff WHERE sort_key = '' ORDER BY id LIMIT 1000",
            )
            .fetch_all(self.pool())
            .await?;
            if rows.is_empty() {
                return Ok(keyed);
            }
            let mut tx = self.write_transaction().await?;
            for row in &rows {
                let (id, display, family): (i64, String, String) = (
                    row.try_get("id")?,
                    row.try_get("display_name")?,
                    row.try_get("family_name")?,
                );
                // Never empty: a key always holds the space after the family name.
                keyed +=
                    sqlx::query("UPDATE staff SET sort_key = $1 WHERE id = $2 AND sort_key = ''")
                        .bind(sort_key(&family, &display))
                        .bind(id)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
            }
            tx.commit().await?;
        }
    }

    /// Retires a live record (it leaves the directory; it and its history are kept), if at
    /// `expected_version` when one is given.
    pub async fn retire_staff(
        &self,
        id: i64,
        expected_version: Option<i64>,
        actor: Actor<'_>,
        now: i64,
    ) -> anyhow::Result<Written> {
        let mut tx = self.write_transaction().await?;
        let Some(current) = current_for_write(&mut tx, id).await? else {
            return Ok(Written::NotFound);
        };
        if expected_version.is_some_and(|v| v != current.version) {
            return Ok(Written::Stale(current.etag()));
        }
        let updated = sqlx::query(
            "UPDATE staff SET retired_at = $1, updated_at = $1, version = version + 1 \
             WHERE id = $2 AND version = $3 AND retired_at IS NULL",
        )
        .bind(now)
        .bind(id)
        .bind(current.version)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if updated != 1 {
            tx.rollback().await?;
            return Ok(Written::Stale(current.etag()));
        }
        let changes = [FieldChange {
            field: "retired_at".into(),
            old: None,
            new: Some(rfc3339(now)),
        }];
        record_history(&mut tx, id, "retire", actor, &changes, now).await?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM staff s WHERE s.id = $1"
        )))
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        let staff = row_to_staff(&row)?;
        tx.commit().await?;
        Ok(Written::Done(Box::new(staff)))
    }
}

async fn insert_staff(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    new: &NewStaff,
    actor: Actor<'_>,
    now: i64,
) -> anyhow::Result<Result<StaffRow, UsernameTaken>> {
    // A failed statement would abort a PostgreSQL transaction, so a taken username is
    // looked for first rather than caught as a constraint violation.
    let taken = sqlx::query("SELECT 1 AS taken FROM staff WHERE username = $1")
        .bind(new.get(Field::Username).to_owned())
        .fetch_optional(&mut **tx)
        .await?;
    if taken.is_some() {
        return Ok(Err(UsernameTaken));
    }
    let inserted = sqlx::query(
        "INSERT INTO staff (username, display_name, family_name, sort_key, job_title, department, email, \
         phone, office, bio, research_interests, version, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 1, $12, $12) RETURNING id",
    )
    .bind(new.get(Field::Username).to_owned())
    .bind(new.get(Field::DisplayName).to_owned())
    .bind(new.get(Field::FamilyName).to_owned())
    .bind(sort_key(
        new.get(Field::FamilyName),
        new.get(Field::DisplayName),
    ))
    .bind(new.get(Field::JobTitle).to_owned())
    .bind(new.get(Field::Department).to_owned())
    .bind(new.get(Field::Email).to_owned())
    .bind(new.get(Field::Phone).to_owned())
    .bind(new.get(Field::Office).to_owned())
    .bind(new.get(Field::Bio).to_owned())
    .bind(new.get(Field::ResearchInterests).to_owned())
    .bind(now)
    .fetch_one(&mut **tx)
    .await;
    let id: i64 = match inserted {
        // Two creators of one username racing: the loser's insert violates the constraint.
        Err(e) if is_unique_violation(&e) => return Ok(Err(UsernameTaken)),
        other => other?.try_get("id")?,
    };
    record_history(tx, id, "create", actor, &new.creation_changes(), now).await?;
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM staff s WHERE s.id = $1"
    )))
    .bind(id)
    .fetch_one(&mut **tx)
    .await?;
    Ok(Ok(row_to_staff(&row)?))
}

/// The live record `id`, read inside a write's transaction.
pub(super) async fn current_for_write(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    id: i64,
) -> anyhow::Result<Option<StaffRow>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM staff s WHERE s.id = $1 AND s.retired_at IS NULL"
    )))
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?;
    row.as_ref().map(row_to_staff).transpose()
}

/// Appends a history entry inside a write's transaction.
pub(super) async fn record_history(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    id: i64,
    action: &str,
    actor: Actor<'_>,
    changes: &[FieldChange],
    now: i64,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO staff_history (staff_id, at, action, subject, client_id, token_kind, changes) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id)
    .bind(now)
    .bind(action)
    .bind(actor.subject)
    .bind(actor.client_id)
    .bind(actor.kind)
    .bind(serde_json::to_string(changes)?)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
