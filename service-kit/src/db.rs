//! Opening a service's database: SQLite (embedded, the default) or PostgreSQL, through sqlx's
//! `Any` driver, with the same pool settings and SQLite pragmas for every service. Each service
//! keeps its own statements and migrations.

use std::str::FromStr as _;
use std::time::Duration;

use anyhow::Context as _;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor as _};

/// The database backend in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An embedded SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// Whether a database error is a unique-constraint violation (an insert of an existing key).
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// Whether a failure means the database cannot be reached right now, so that a retry may
/// succeed and the service answers 503 with `Retry-After` instead of 500: no connection could
/// be had in time or the pool is closed, the connection broke (I/O), SQLite's file is locked by
/// another process past the busy timeout, or PostgreSQL refuses work while it starts, stops or
/// has lost the connection (SQLSTATE classes 08 and 57P).
pub fn is_unreachable(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        // The connections of `local_reads` and the auth server's rotation writer (rusqlite).
        if let Some(rusqlite::Error::SqliteFailure(failure, _)) =
            cause.downcast_ref::<rusqlite::Error>()
        {
            return matches!(
                failure.code,
                rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
            );
        }
        match cause.downcast_ref::<sqlx::Error>() {
            Some(sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_)) => true,
            Some(sqlx::Error::Database(db)) => db.code().is_some_and(|code| {
                // SQLite: SQLITE_BUSY (5) and SQLITE_LOCKED (6), extended codes included (SQLite's
                // codes are numbers; PostgreSQL's SQLSTATEs always have five characters).
                (code.len() < 5 && code.parse::<i32>().is_ok_and(|n| matches!(n & 0xff, 5 | 6)))
                    || code.starts_with("08")
                    || code.starts_with("57P")
            }),
            _ => false,
        }
    })
}

/// Connects to `url`: `sqlite://path` (the file and its folder are created, WAL mode) or
/// `postgres://…`.
pub async fn connect(url: &str) -> anyhow::Result<(AnyPool, Backend)> {
    sqlx::any::install_default_drivers();
    let backend = if url.starts_with("sqlite:") {
        Backend::Sqlite
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        Backend::Postgres
    } else {
        anyhow::bail!("unsupported database URL: it must start with sqlite: or postgres:");
    };
    let url = match backend {
        Backend::Sqlite => prepare_sqlite_url(url)?,
        Backend::Postgres => url.to_owned(),
    };
    let options = AnyConnectOptions::from_str(&url).context("the database URL is malformed")?;
    let pool = AnyPoolOptions::new()
        .max_connections(match backend {
            // SQLite writes one at a time whatever the pool; each connection is a thread
            // with its own page cache (2 MB), so a few are enough for searches beside writes.
            Backend::Sqlite => 4,
            Backend::Postgres => 16,
        })
        .acquire_timeout(Duration::from_secs(5))
        // A pooled SQLite connection is a file handle that cannot go stale, so pinging it
        // before every use only costs a round trip to its worker thread (a third of a read by
        // id). A PostgreSQL connection can die with its server: it is checked before use.
        .test_before_acquire(backend == Backend::Postgres)
        .after_connect(move |conn, _meta| {
            Box::pin(async move {
                if backend == Backend::Sqlite {
                    for (name, value) in SQLITE_PRAGMAS {
                        conn.execute(sqlx::AssertSqlSafe(format!("PRAGMA {name} = {value}")))
                            .await?;
                    }
                }
                Ok(())
            })
        })
        .connect_with(options)
        .await
        .context("cannot connect to the database")?;
    Ok((pool, backend))
}

/// The settings of every SQLite connection a service opens, whichever library opens it. WAL
/// lets readers proceed while one writer commits. With WAL, `synchronous = NORMAL` makes a
/// commit durable against a crash of the process (what SQLite deployments here face) without
/// an fsync per commit; a power failure may lose the last commits. PostgreSQL is the choice
/// where that matters.
const SQLITE_PRAGMAS: [(&str, &str); 3] = [
    ("journal_mode", "WAL"),
    ("synchronous", "NORMAL"),
    ("foreign_keys", "ON"),
];

/// Longest a SQLite statement waits for a lock held by another connection (sqlx's default).
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The file path and the query of a `sqlite:` URL (`sqlite://path?query`, `sqlite:path`).
pub fn sqlite_file(url: &str) -> Option<(&str, &str)> {
    let rest = url.strip_prefix("sqlite:")?.trim_start_matches("//");
    Some(rest.split_once('?').unwrap_or((rest, "")))
}

/// A rusqlite connection to the SQLite file at `path` with the pool's settings, for work done
/// outside the pool (`local_reads`, the auth server's rotation writer).
pub fn open_sqlite(path: &std::path::Path) -> anyhow::Result<rusqlite::Connection> {
    use rusqlite::{Connection, OpenFlags};
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .with_context(|| format!("cannot open {}", path.display()))?;
    conn.busy_timeout(SQLITE_BUSY_TIMEOUT)?;
    for (name, value) in SQLITE_PRAGMAS {
        conn.pragma_update(None, name, value)?;
    }
    Ok(conn)
}

/// Adds `mode=rwc` (create the file) and creates the folder of a SQLite file URL.
fn prepare_sqlite_url(url: &str) -> anyhow::Result<String> {
    let (path, query) = sqlite_file(url).context("not a sqlite: URL")?;
    if path != ":memory:"
        && let Some(parent) = std::path::Path::new(path)
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
    {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create the data folder {}", parent.display()))?;
    }
    let query = if query.contains("mode=") {
        query.to_owned()
    } else if query.is_empty() {
        "mode=rwc".to_owned()
    } else {
        format!("{query}&mode=rwc")
    };
    Ok(format!("sqlite://{path}?{query}"))
}

/// The database URL to use: the contents of `file` (surrounding whitespace ignored) when one
/// is given, so that a URL holding a password can come from a mounted secret; else `url`.
pub fn url_from(url: &DatabaseUrl, file: Option<&std::path::Path>) -> anyhow::Result<DatabaseUrl> {
    let Some(path) = file else {
        return Ok(url.clone());
    };
    let text = std::fs::read_to_string(path).map_err(|e| {
        anyhow::anyhow!("cannot read the database URL file {}: {e}", path.display())
    })?;
    let value = text.trim();
    anyhow::ensure!(
        !value.is_empty(),
        "the database URL file {} is empty",
        path.display()
    );
    Ok(DatabaseUrl(value.to_owned()))
}

/// A database URL, which may hold a password (`postgres://user:password@host/db`): shown by
/// `Debug` and `Display` with the password replaced, so settings can be logged.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    /// The URL itself, password included: only for connecting.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The URL with any password replaced by `[REDACTED]`.
    pub fn redacted(&self) -> String {
        let Some((scheme, rest)) = self.0.split_once("://") else {
            return self.0.clone();
        };
        let authority_end = rest.find('/').unwrap_or(rest.len());
        let (authority, path) = rest.split_at(authority_end);
        match authority.rsplit_once('@') {
            Some((userinfo, host)) => match userinfo.split_once(':') {
                Some((user, _password)) => format!("{scheme}://{user}:[REDACTED]@{host}{path}"),
                None => self.0.clone(),
            },
            None => self.0.clone(),
        }
    }
}

impl From<String> for DatabaseUrl {
    fn from(url: String) -> Self {
        Self(url)
    }
}

impl From<&str> for DatabaseUrl {
    fn from(url: &str) -> Self {
        Self(url.to_owned())
    }
}

impl std::str::FromStr for DatabaseUrl {
    type Err = std::convert::Infallible;

    fn from_str(url: &str) -> Result<Self, Self::Err> {
        Ok(Self(url.to_owned()))
    }
}

impl std::ops::Deref for DatabaseUrl {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.redacted())
    }
}

impl std::fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

#[cfg(test)]
mod url_tests {
    use super::DatabaseUrl;

    #[test]
    fn passwords_never_show() {
        let url = DatabaseUrl::from("postgres://app:s3cret@db:5432/auth?sslmode=require");
        assert_eq!(
            format!("{url:?} {url}"),
            "\"postgres://app:[REDACTED]@db:5432/auth?sslmode=require\" postgres://app:[REDACTED]@db:5432/auth?sslmode=require"
        );
        assert_eq!(
            DatabaseUrl::from("sqlite://data/auth.db").redacted(),
            "sqlite://data/auth.db"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreachable_database_is_told_from_other_failures() {
        for e in [
            sqlx::Error::PoolTimedOut,
            sqlx::Error::PoolClosed,
            sqlx::Error::Io(std::io::ErrorKind::ConnectionRefused.into()),
        ] {
            assert!(is_unreachable(&anyhow::Error::new(e).context("a query")));
        }
        for e in [sqlx::Error::RowNotFound, sqlx::Error::Protocol("x".into())] {
            assert!(!is_unreachable(&anyhow::Error::new(e)));
        }
        assert!(!is_unreachable(&anyhow::anyhow!("not a database error")));
        let busy = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
            None,
        );
        assert!(is_unreachable(
            &anyhow::Error::new(busy).context("a rotation")
        ));
    }
}
