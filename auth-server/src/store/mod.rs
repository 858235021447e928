//! Every SQL statement of the auth server. One portable dialect runs on SQLite and PostgreSQL
//! through sqlx's `Any` driver: `$n` placeholders, `BIGINT` Unix seconds, text everywhere else.

pub mod clients;
pub mod codes;
pub mod keys;
pub mod refresh;
pub mod rotations;
pub mod secrets;
pub mod throttle;
pub mod users;

use anyhow::Context as _;
pub use service_kit::db::{Backend, is_unique_violation};
use service_kit::local_reads::LocalReads;
use sqlx::AnyPool;

/// The migrations of this service, embedded in the binary.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// A handle on the auth server's database; cheap to clone.
#[derive(Debug, Clone)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
    local: Option<LocalReads>,
    rotations: Option<rotations::RotationWriter>,
    kek: Option<crate::at_rest::KeyEncryptionKey>,
}

impl Db {
    /// Connects to `url`: `sqlite://path` (the file and its folder are created, WAL mode) or
    /// `postgres://…`.
    pub async fn connect(url: impl Into<service_kit::db::DatabaseUrl>) -> anyhow::Result<Self> {
        let url = url.into();
        let url = &url;
        let (pool, backend) = service_kit::db::connect(url).await?;
        let local = match backend {
            Backend::Sqlite => LocalReads::for_url(url),
            Backend::Postgres => None,
        };
        let rotations = local
            .as_ref()
            .map(|local| rotations::RotationWriter::start(local.path()))
            .transpose()?;
        Ok(Self {
            pool,
            backend,
            local,
            rotations,
            kek: None,
        })
    }

    /// Seals the server's secrets with `kek` from now on (see [`crate::at_rest`]).
    pub fn with_key_encryption(mut self, kek: Option<crate::at_rest::KeyEncryptionKey>) -> Self {
        self.kek = kek;
        self
    }

    /// The key-encryption key, if one is configured.
    pub(crate) fn kek(&self) -> Option<&crate::at_rest::KeyEncryptionKey> {
        self.kek.as_ref()
    }

    /// Applies the embedded migrations.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        MIGRATOR
            .run(&self.pool)
            .await
            .context("database migration failed")
    }

    /// Whether the database answers (for `/readyz`).
    pub async fn ping(&self) -> anyhow::Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes the pool, waiting for connections to be returned.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Point reads on the calling thread, on SQLite files (see `service_kit::local_reads`).
    pub(crate) fn local_reads(&self) -> Option<&LocalReads> {
        self.local.as_ref()
    }

    /// The group-committing writer of refresh-token rotations, on SQLite files.
    pub(crate) fn rotation_writer(&self) -> Option<&rotations::RotationWriter> {
        self.rotations.as_ref()
    }
}
