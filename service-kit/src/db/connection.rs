//! Opening a service's database: SQLite (embedded, the default) or PostgreSQL, through sqlx's
//! `Any` driver, with the same pool settings and SQLite pragmas for every service; and the
//! SQLite connections opened outside the pool (`local_reads`, the auth server's rotation
//! writer) with the same settings. Each service keeps its own statements and migrations.

use std::str::FromStr as _;
use std::time::Duration;

use anyhow::Context as _;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor as _};

use super::url::DatabaseUrl;

/// The database backend in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An embedded SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// Connects to `url`: `sqlite://path` (the file and its folder are created, WAL mode) or
/// `postgres://…`.
pub async fn connect(url: &DatabaseUrl) -> anyhow::Result<(AnyPool, Backend)> {
    let Some(backend) = url.backend() else {
        anyhow::bail!("unsupported database URL: it must start with sqlite: or postgres:");
    };
    let url = url.expose_secret();
    sqlx::any::install_default_drivers();
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
