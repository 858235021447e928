//! Where a search's statements run: on a SQLite file, all of them on one of a few search
//! threads ([`start_search_threads`]), with that thread's own read-only connection
//! (`service_kit::local_reads`); otherwise (PostgreSQL, an in-memory SQLite database) through
//! the pool. [`super::Db::search`] decides what to run and where; this module only runs it,
//! one way or the other, and gives the same answers both ways (the tests below compare them on
//! every shape of search).
//!
//! Why not the pool on SQLite (the profile): sqlx hands each statement of a SQLite connection
//! to that connection's own thread, and every row back, through channels. A search is two to
//! four statements and a page of 20–24 rows, so tens of thread wake-ups, which cost more than
//! its SQL: at 100,000 records an unfiltered first page took 0.1 ms of SQL and about 0.5 ms of
//! CPU through the pool (3,842 requests/s, against 41,777/s for a read by id on the calling
//! thread), and a family-name search 1.7 ms of SQL and 2.6 ms of CPU. One hand-off per search
//! to a search thread, and back, replaces them.
//!
//! Why not on the calling HTTP worker thread, as a read by id is: a search can take
//! milliseconds (a broad count, a deep page, a sort of a few thousand matches), and the worker
//! serves every other request of its connections meanwhile. Measured that way, the search rows
//! swung by half from run to run with whether two clients' connections shared a worker, and a
//! stranger sending deep pages could have held up everyone else's reads. On the search
//! threads, a search waits for a free one as it waited for a pooled connection, and the
//! workers stay free. The figures are in docs/performance.md.

use rusqlite::types::Value;
use service_kit::local_reads::LocalReads;
use sqlx::AnyPool;
use sqlx::Row as _;

use crate::domain::staff::StaffRecord;
use crate::domain::time::rfc3339;
use crate::store::row::{StaffRow, row_to_staff, staff_from_row};

/// Where the statements of one search run.
#[derive(Debug, Clone, Copy)]
pub(super) enum Reader<'a> {
    /// This thread's own read-only connection to the SQLite file.
    Local(&'a LocalReads),
    /// The pool.
    Pool(&'a AnyPool),
}

impl Reader<'_> {
    /// The `n` of a one-row count statement, and its `span` when `with_span`.
    pub(super) async fn count(
        self,
        sql: &str,
        binds: &[String],
        with_span: bool,
    ) -> anyhow::Result<(i64, Option<i64>)> {
        match self {
            Reader::Local(local) => local.read(|conn| {
                conn.prepare_cached(sql)?
                    .query_row(rusqlite::params_from_iter(binds), |r| {
                        let span = if with_span {
                            Some(r.get("span")?)
                        } else {
                            None
                        };
                        Ok((r.get("n")?, span))
                    })
            }),
            Reader::Pool(pool) => {
                let row = bound(sqlx::query(sqlx::AssertSqlSafe(sql)), binds)
                    .fetch_one(pool)
                    .await?;
                let span = if with_span {
                    Some(row.try_get("span")?)
                } else {
                    None
                };
                Ok((row.try_get("n")?, span))
            }
        }
    }

    /// The rows of a `letter, n` statement.
    pub(super) async fn letters(
        self,
        sql: &str,
        binds: &[String],
    ) -> anyhow::Result<Vec<(String, i64)>> {
        match self {
            Reader::Local(local) => local.read(|conn| {
                conn.prepare_cached(sql)?
                    .query_map(rusqlite::params_from_iter(binds), |r| {
                        Ok((r.get("letter")?, r.get("n")?))
                    })?
                    .collect()
            }),
            Reader::Pool(pool) => bound(sqlx::query(sqlx::AssertSqlSafe(sql)), binds)
                .fetch_all(pool)
                .await?
                .iter()
                .map(|r| Ok((r.try_get("letter")?, r.try_get("n")?)))
                .collect(),
        }
    }

    /// The records of a page statement whose last two placeholders are its `LIMIT` and
    /// `OFFSET`, after `binds`.
    pub(super) async fn staff(
        self,
        sql: &str,
        binds: &[String],
        (limit, offset): (i64, i64),
    ) -> anyhow::Result<Vec<StaffRow>> {
        match self {
            Reader::Local(local) => {
                let values: Vec<Value> = binds
                    .iter()
                    .map(|b| Value::Text(b.clone()))
                    .chain([Value::Integer(limit), Value::Integer(offset)])
                    .collect();
                local.read(|conn| {
                    conn.prepare_cached(sql)?
                        .query_map(rusqlite::params_from_iter(values), |r| {
                            Ok(staff_from_row!(r, get))
                        })?
                        .collect()
                })
            }
            Reader::Pool(pool) => bound(sqlx::query(sqlx::AssertSqlSafe(sql)), binds)
                .bind(limit)
                .bind(offset)
                .fetch_all(pool)
                .await?
                .iter()
                .map(row_to_staff)
                .collect(),
        }
    }
}

/// How many searches run at once on a SQLite file: one per CPU, at least two and at most
/// four, each on a thread of its own with that thread's read-only connection
/// ([`crate::threads`] says why not tokio's blocking threads). Searches beyond them wait for a
/// thread, as they waited for a pooled connection before.
pub fn start_search_threads() -> anyhow::Result<crate::threads::Dedicated> {
    let cpus = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
    crate::threads::Dedicated::start("search", cpus.clamp(2, 4))
}

/// `query` with every value of `binds` bound, in order.
fn bound<'q>(
    mut query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    binds: &[String],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    for value in binds {
        query = query.bind(value.clone());
    }
    query
}

#[cfg(test)]
mod tests {
    use crate::domain::name::{Initial, sort_key};
    use crate::domain::search::SearchWords;
    use crate::domain::staff::{NewStaff, NewStaffRequest};
    use crate::store::Db;
    use crate::store::search::SearchQuery;
    use crate::store::staff::Actor;

    const ACTOR: Actor<'static> = Actor {
        subject: "test",
        client_id: "test",
        kind: "client",
    };

    /// Family names in no particular order, with accents and shared prefixes.
    const FAMILIES: [&str; 12] = [
        "Okafor", "Östberg", "O'Connor", "Ó'Brien", "Adams", "Zhou", "Okonkwo", "Martin", "Marsh",
        "Ng", "Évora", "Baker",
    ];
    const DEPARTMENTS: [&str; 3] = ["Physics", "History", "Chemistry"];

    /// A migrated SQLite file of this test's own, removed when dropped.
    struct TempDb {
        folder: std::path::PathBuf,
        db: Db,
    }

    impl Drop for TempDb {
        fn drop(&mut self) {
            drop(std::fs::remove_dir_all(&self.folder));
        }
    }

    /// 72 records: every family name six times, with given names, departments and research
    /// interests varied so that words match densely (`optics`: two in three) or in a block
    /// (`okafor`), with and without a department; the last one retired.
    async fn seeded() -> TempDb {
        let folder =
            std::env::temp_dir().join(format!("directory-api-search-reads-{}", std::process::id()));
        let db = Db::connect(format!("sqlite://{}/api.db", folder.display()))
            .await
            .unwrap();
        db.migrate().await.unwrap();
        let mut last = 0;
        for i in 0..72_usize {
            let family = FAMILIES[i % FAMILIES.len()];
            let given = ["Ada", "Ben", "Chioma", "Dara", "Emil", "Femi"][i / FAMILIES.len()];
            let interests = if i % 3 == 0 {
                "history of science"
            } else {
                "quantum optics"
            };
            let request: NewStaffRequest = serde_json::from_value(serde_json::json!({
                "username": format!("user{i}"), "display_name": format!("{given} {family}"),
                "job_title": "Lecturer", "department": DEPARTMENTS[i % DEPARTMENTS.len()],
                "email": format!("user{i}@example.edu"), "research_interests": interests,
            }))
            .unwrap();
            let created = db
                .create_staff(&NewStaff::parse(&request).unwrap(), ACTOR, 1_700_000_000)
                .await
                .unwrap()
                .unwrap();
            last = created.record.id;
        }
        db.retire_staff(last, None, ACTOR, 1_700_000_100)
            .await
            .unwrap();
        TempDb { folder, db }
    }

    fn query(words: &str, department: Option<&str>, initial: Option<char>) -> SearchQuery {
        SearchQuery {
            words: SearchWords::parse(words),
            department: department.map(str::to_owned),
            initial: initial.map(|c| Initial::parse(&c.to_string()).unwrap()),
            letters: true,
            page: 1,
            per_page: 100,
        }
    }

    /// Every search shape, on a search thread and through the pool: the same pages, counts
    /// and letters; pages of any size put together give the one big page (small pages are
    /// found by walking the listing index, a big one by sorting the matches); and the order
    /// is the directory's (sort key, then id), with the retired record never found.
    #[tokio::test]
    async fn searches_on_a_search_thread_and_through_the_pool_agree_in_directory_order() {
        let t = seeded().await;
        let (local, pooled) = (&t.db, &t.db.through_pool());
        assert!(local.local_reads().is_some() && pooled.local_reads().is_none());
        let shapes = [
            query("", None, None),
            query("", Some("Physics"), None),
            query("", None, Some('O')),
            query("", Some("History"), Some('O')),
            query("okafor", None, None),
            query("okafor", Some("Physics"), None),
            query("optics", None, None),
            query("quantum optics", Some("Chemistry"), None),
            query("optics", None, Some('M')),
            query("chioma", None, None),
            query("nobody", None, None),
        ];
        for shape in shapes {
            let whole = local.search(&shape).await.unwrap();
            assert_eq!(whole, pooled.search(&shape).await.unwrap(), "{shape:?}");
            assert_eq!(whole.total, i64::try_from(whole.rows.len()).unwrap());
            let keys: Vec<(String, i64)> = whole
                .rows
                .iter()
                .map(|r| {
                    (
                        sort_key(&r.record.family_name, &r.record.display_name),
                        r.record.id,
                    )
                })
                .collect();
            assert!(keys.is_sorted(), "directory order for {shape:?}: {keys:?}");
            assert!(whole.rows.iter().all(|r| r.record.retired_at.is_none()));
            for per_page in [1, 2, 5] {
                let mut pages = Vec::new();
                for page in 1..=(whole.total / per_page + 1) {
                    let q = SearchQuery {
                        page,
                        per_page,
                        ..shape.clone()
                    };
                    let found = local.search(&q).await.unwrap();
                    assert_eq!(found, pooled.search(&q).await.unwrap(), "{q:?}");
                    assert_eq!((found.total, &found.letters), (whole.total, &whole.letters));
                    pages.extend(found.rows);
                }
                assert_eq!(pages, whole.rows, "pages of {per_page} for {shape:?}");
            }
        }
        let okafor = local.search(&query("okafor", None, None)).await.unwrap();
        assert_eq!(okafor.total, 6, "one family name, six given names");
        let optics = local.search(&query("optics", None, None)).await.unwrap();
        assert_eq!(optics.total, 47, "two in three of the 71 live records");
    }
}
