//! The SQLite fast path: a read of one record by id runs on the calling HTTP worker thread,
//! with a read-only connection of that thread's own (`service_kit::local_reads`), instead of
//! going through the pool. A search's statements take the same path (`super::search::reads`,
//! with its own profile and tests). Every other statement (writes, reads by username) and
//! every read on PostgreSQL goes through the pool.
//!
//! Why (the profile): sqlx runs each SQLite connection on a thread of its own and hands every
//! statement to it, and the rows back, through channels: two thread wake-ups per query. `perf
//! record -g` during `GET /staff/{id}` showed 60% of the API's CPU in the kernel's scheduler
//! (`finish_task_switch`, `try_to_wake_up`) called from those channels, while the SQL itself,
//! a primary-key lookup, takes microseconds. Such a read is short enough to run on the worker
//! thread, and WAL lets it read beside any writer without waiting.
//!
//! The figures (`bench`, docs/performance.md "API reads by id"): 13,600–21,900 reads by id per
//! second (22–35% of the `healthz` baseline) through the pool, 48,086/s (85%) on the calling
//! thread. The API's memory under the soak also fell from 75 to 50 MB, as four pooled
//! connections are then enough for searches beside writes.
//!
//! Where it is taken: [`available`] decides once, at connection; [`Db::staff`] then reads
//! here when it can and through the pool otherwise. The tests below check both branches
//! return the same record.
//!
//! [`Db::staff`]: super::Db::staff

use rusqlite::OptionalExtension as _;
use service_kit::local_reads::LocalReads;

use super::Backend;
use super::row::{COLUMNS, StaffRow, staff_from_row};
use crate::domain::staff::StaffRecord;
use crate::domain::time::rfc3339;

/// Calling-thread reads for the database at `url`: on a SQLite file only (an in-memory
/// database is private to one connection, so another could not see it; PostgreSQL has no
/// such cost to save: its connections are sockets the async runtime waits on).
pub fn available(backend: Backend, url: &service_kit::db::DatabaseUrl) -> Option<LocalReads> {
    match backend {
        Backend::Sqlite => LocalReads::for_url(url),
        Backend::Postgres => None,
    }
}

/// The record `id`, live or retired.
pub fn staff(local: &LocalReads, id: i64) -> anyhow::Result<Option<StaffRow>> {
    local.read(|conn| {
        conn.prepare_cached(&format!("SELECT {COLUMNS} FROM staff s WHERE s.id = ?1"))?
            .query_row([id], |r| Ok(staff_from_row!(r, get)))
            .optional()
    })
}

/// A photo read of [`super::photos`] (`sql`, with `?1` for `id`): the record's retirement,
/// and the image's type, ETag and bytes when it has one; `None` when there is no such record.
#[allow(clippy::type_complexity)]
pub fn photo(
    local: &LocalReads,
    sql: &str,
    id: i64,
) -> anyhow::Result<Option<(Option<i64>, Option<(String, String, Vec<u8>)>)>> {
    local.read(|conn| {
        conn.prepare_cached(sql)?
            .query_row([id], |r| {
                let content_type: Option<String> = r.get("content_type")?;
                let image = match content_type {
                    Some(t) => Some((t, r.get("etag")?, r.get("bytes")?)),
                    None => None,
                };
                Ok((r.get("retired_at")?, image))
            })
            .optional()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::staff::{NewStaff, NewStaffRequest};
    use crate::store::Db;
    use crate::store::staff::Actor;

    const ACTOR: Actor<'static> = Actor {
        subject: "test",
        client_id: "test",
        kind: "client",
    };

    /// A migrated SQLite file of this test's own, removed when dropped.
    struct TempDb {
        folder: std::path::PathBuf,
        db: Db,
    }

    impl TempDb {
        async fn new(name: &str) -> Self {
            let folder = std::env::temp_dir().join(format!(
                "directory-api-local-reads-{name}-{}",
                std::process::id()
            ));
            let url = format!("sqlite://{}/api.db", folder.display());
            let db = Db::connect(&url).await.unwrap();
            db.migrate().await.unwrap();
            Self { folder, db }
        }
    }

    impl Drop for TempDb {
        fn drop(&mut self) {
            drop(std::fs::remove_dir_all(&self.folder));
        }
    }

    fn new_staff(username: &str) -> NewStaff {
        let request: NewStaffRequest = serde_json::from_value(serde_json::json!({
            "username": username, "display_name": "Zoë Example", "job_title": "Lecturer",
            "department": "Physics", "email": format!("{username}@example.edu"),
        }))
        .unwrap();
        NewStaff::parse(&request).unwrap()
    }

    #[test]
    fn only_a_sqlite_file_is_read_on_the_calling_thread() {
        assert!(available(Backend::Sqlite, &"sqlite://data/api.db?mode=rwc".into()).is_some());
        assert!(available(Backend::Sqlite, &"sqlite::memory:".into()).is_none());
        assert!(available(Backend::Postgres, &"postgres://db/api".into()).is_none());
    }

    #[tokio::test]
    async fn on_sqlite_a_read_by_id_is_taken_on_the_calling_thread_and_matches_the_pool() {
        let t = TempDb::new("branches").await;
        assert!(
            t.db.local_reads().is_some(),
            "a SQLite file has the fast path"
        );
        let created =
            t.db.create_staff(&new_staff("zexample"), ACTOR, 1_700_000_000)
                .await
                .unwrap()
                .unwrap();
        let id = created.record.id;
        let local = staff(t.db.local_reads().unwrap(), id).unwrap();
        let pooled = t.db.staff_from_pool(id).await.unwrap();
        assert_eq!(local.as_ref(), Some(&created));
        assert_eq!(local, pooled);
        assert_eq!(t.db.staff(id, false).await.unwrap(), pooled);
        // A record that is not there, both ways.
        assert_eq!(staff(t.db.local_reads().unwrap(), id + 1).unwrap(), None);
        assert_eq!(t.db.staff_from_pool(id + 1).await.unwrap(), None);
    }

    #[tokio::test]
    async fn both_branches_see_a_retired_record_and_a_write_at_once() {
        let t = TempDb::new("retired").await;
        let created =
            t.db.create_staff(&new_staff("retiree"), ACTOR, 1_700_000_000)
                .await
                .unwrap()
                .unwrap();
        let id = created.record.id;
        t.db.retire_staff(id, None, ACTOR, 1_700_000_100)
            .await
            .unwrap();
        let local = staff(t.db.local_reads().unwrap(), id).unwrap().unwrap();
        assert!(local.record.retired_at.is_some());
        assert_eq!(local.version, created.version + 1);
        assert_eq!(Some(local), t.db.staff_from_pool(id).await.unwrap());
        assert_eq!(
            t.db.staff(id, false).await.unwrap(),
            None,
            "retired: hidden"
        );
        assert!(
            t.db.staff(id, true).await.unwrap().is_some(),
            "unless asked for"
        );
    }

    /// The pool path on PostgreSQL, when `TEST_DATABASE_URL` names one (as for the e2e suite).
    #[tokio::test]
    async fn on_postgresql_reads_by_id_go_through_the_pool() {
        let Ok(url) = std::env::var("TEST_DATABASE_URL") else {
            return;
        };
        if !url.starts_with("postgres") {
            return;
        }
        let db = Db::connect(&url).await.unwrap();
        assert!(db.local_reads().is_none());
    }
}
