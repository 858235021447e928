//! Every SQL statement of the directory API. SQLite and PostgreSQL share the statements
//! except for search, where each uses its own full-text index, and the migrations.
//!
//! | module | owns |
//! |---|---|
//! | [`staff`] | the row type, its ETag, and the reads by id, username, department, history |
//! | [`search`] | searches of the live directory and the full-text match expression |
//! | [`writes`] | creation, update and retirement, each with its history entry |
//! | [`photos`] | staff photos: the read of one with its record's state, upload and removal |
//! | [`local_reads`] | the SQLite fast path: reads by id on the calling thread (searches use it too) |

pub mod local_reads;
pub mod photos;
pub mod row;
pub mod search;
pub mod staff;
pub mod writes;

use anyhow::Context as _;
pub use service_kit::db::{Backend, is_unique_violation};
use service_kit::local_reads::LocalReads;
use sqlx::AnyPool;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// A handle on the directory's database; cheap to clone.
#[derive(Debug, Clone)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
    local: Option<LocalReads>,
    /// The threads that run searches on a SQLite file (`None` where `local` is).
    search_threads: Option<crate::threads::Dedicated>,
}

impl Db {
    /// Connects to `url`: `sqlite://path` (file and folder created, WAL) or `postgres://…`.
    pub async fn connect(url: impl Into<service_kit::db::DatabaseUrl>) -> anyhow::Result<Self> {
        let url = url.into();
        let url = &url;
        let (pool, backend) = service_kit::db::connect(url).await?;
        let local = local_reads::available(backend, url);
        let search_threads = local
            .as_ref()
            .map(|_| search::start_search_threads())
            .transpose()?;
        Ok(Self {
            pool,
            backend,
            local,
            search_threads,
        })
    }

    /// Applies the backend's migrations, then gives any record without a sort key its key
    /// (computed in Rust, so no migration can: see `domain::name`).
    pub async fn migrate(&self) -> anyhow::Result<()> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator
            .run(&self.pool)
            .await
            .context("database migration failed")?;
        let keyed = self
            .fill_sort_keys()
            .await
            .context("giving existing records their sort keys failed")?;
        if keyed > 0 {
            tracing::info!(keyed, "existing records were given their sort keys");
        }
        Ok(())
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> anyhow::Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes the pool.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Point reads on the calling thread, on SQLite files (see [`local_reads`]).
    pub(crate) fn local_reads(&self) -> Option<&LocalReads> {
        self.local.as_ref()
    }

    /// The threads that run searches on a SQLite file.
    pub(crate) fn search_threads(&self) -> Option<&crate::threads::Dedicated> {
        self.search_threads.as_ref()
    }

    /// The same database with every read through the pool, to compare both ways in tests.
    #[cfg(test)]
    pub(crate) fn through_pool(&self) -> Self {
        Self {
            local: None,
            ..self.clone()
        }
    }
}
