//! Reads of one record by id on SQLite, done on the calling HTTP worker thread with a
//! connection of that thread's own.
//!
//! sqlx runs each SQLite connection on a thread of its own and hands every statement to it
//! and the rows back through channels: two thread wake-ups per query. For a read by id, whose
//! SQL takes microseconds, profiling showed those wake-ups (futex, context switches) were
//! most of the request's CPU. A point read by primary key is short enough to run on the
//! worker thread itself, and WAL lets it read beside any writer without waiting. Searches and
//! every write still go through the pool.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use rusqlite::{Connection, OpenFlags, OptionalExtension as _};

use super::staff::{COLUMNS, StaffRow};
use crate::clock::rfc3339;
use crate::domain::staff::StaffRecord;

/// Longest a read waits for a lock (only WAL recovery after a crash can make it wait).
const BUSY_TIMEOUT: Duration = Duration::from_millis(1000);

thread_local! {
    /// This thread's read-only connections, by database file (a test process serves many).
    static CONNECTIONS: RefCell<HashMap<PathBuf, Connection>> = RefCell::new(HashMap::new());
}

/// Point reads of one SQLite database file.
#[derive(Debug, Clone)]
pub struct LocalReads {
    path: PathBuf,
}

impl LocalReads {
    /// For the SQLite database at `url` (`sqlite://path?…`); `None` for an in-memory one,
    /// which another connection could not see.
    pub fn for_url(url: &str) -> Option<Self> {
        let rest = url.strip_prefix("sqlite:")?.trim_start_matches("//");
        let path = rest.split_once('?').map_or(rest, |(path, _)| path);
        (!path.is_empty() && path != ":memory:").then(|| Self {
            path: PathBuf::from(path),
        })
    }

    /// The record `id`, live or retired.
    pub fn staff(&self, id: i64) -> anyhow::Result<Option<StaffRow>> {
        CONNECTIONS.with(|connections| {
            let mut connections = connections.borrow_mut();
            if !connections.contains_key(&self.path) {
                connections.insert(self.path.clone(), open(&self.path)?);
            }
            let conn = connections
                .get(&self.path)
                .context("the read connection just opened is gone")?;
            let mut statement =
                conn.prepare_cached(&format!("SELECT {COLUMNS} FROM staff s WHERE s.id = ?1"))?;
            let row = statement
                .query_row([id], |r| {
                    let retired_at: Option<i64> = r.get("retired_at")?;
                    Ok(StaffRow {
                        record: StaffRecord {
                            id: r.get("id")?,
                            username: r.get("username")?,
                            display_name: r.get("display_name")?,
                            job_title: r.get("job_title")?,
                            department: r.get("department")?,
                            email: r.get("email")?,
                            phone: r.get("phone")?,
                            office: r.get("office")?,
                            bio: r.get("bio")?,
                            research_interests: r.get("research_interests")?,
                            updated_at: rfc3339(r.get("updated_at")?),
                            retired_at: retired_at.map(rfc3339),
                        },
                        version: r.get("version")?,
                    })
                })
                .optional()?;
            Ok(row)
        })
    }
}

/// A connection that can only read (`query_only`), in the file's WAL mode.
fn open(path: &Path) -> anyhow::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .with_context(|| format!("cannot open {} for reading", path.display()))?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "query_only", true)?;
    Ok(conn)
}
