//! Point reads on SQLite done on the calling thread, with a connection of that thread's own.
//!
//! sqlx runs each SQLite connection on a thread of its own and hands every statement to it and
//! the rows back through channels: two thread wake-ups per query. For a read by key, whose SQL
//! takes microseconds, profiling showed those wake-ups (futex, context switches) were most of
//! the request's CPU. Such a read is short enough to run on the HTTP worker thread itself, and
//! WAL lets it read beside any writer without waiting. Longer reads made of several statements
//! (the directory API's searches) use the same connections from a few threads of their own
//! instead, one hand-off per search. Everything else goes through the pool (or, for the auth
//! server's refresh-token rotations, through its group-committing writer).

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use rusqlite::Connection;

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
    /// For the SQLite database at `url` (`sqlite://path?…`); `None` for any other URL and for
    /// an in-memory database, which another connection could not see.
    pub fn for_url(url: &crate::db::DatabaseUrl) -> Option<Self> {
        let (path, _) = crate::db::sqlite_file(url.expose_secret())?;
        (!path.is_empty() && path != ":memory:").then(|| Self {
            path: PathBuf::from(path),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `read` with this thread's connection to the file (opened on first use). On an
    /// HTTP worker thread, keep it to a short read by key: that thread serves other requests
    /// too. Longer reads belong on a thread of their own, one that lives as long as the
    /// service: each thread that reads keeps a connection (and its page cache) for its life.
    pub fn read<T>(
        &self,
        read: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> anyhow::Result<T> {
        CONNECTIONS.with(|connections| {
            let mut connections = connections.borrow_mut();
            if !connections.contains_key(&self.path) {
                connections.insert(self.path.clone(), open(&self.path)?);
            }
            let conn = connections
                .get(&self.path)
                .context("the read connection just opened is gone")?;
            Ok(read(conn)?)
        })
    }
}

/// Prepared statements kept per connection (rusqlite's default is 16).
const STATEMENT_CACHE_CAPACITY: usize = 128;

/// A connection with the pool's settings that can only read (`query_only`).
fn open(path: &Path) -> anyhow::Result<Connection> {
    let conn = crate::db::open_sqlite(path)?;
    conn.pragma_update(None, "query_only", true)?;
    // Room for every statement the reads prepare (reads by key, and the directory API's
    // searches: a few dozen shapes), so none is parsed again on each use.
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE_CAPACITY);
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use super::LocalReads;

    #[test]
    fn only_sqlite_files_are_read_locally() {
        assert!(LocalReads::for_url(&"sqlite://data/auth.db?mode=rwc".into()).is_some());
        assert!(LocalReads::for_url(&"sqlite::memory:".into()).is_none());
        assert!(LocalReads::for_url(&"postgres://db/auth".into()).is_none());
    }
}
