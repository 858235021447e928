//! A throwaway database for one test: a SQLite file in a temporary folder, or a new
//! PostgreSQL database when `TEST_DATABASE_URL` names a server.

use sqlx::Connection as _;
use tempfile::TempDir;

/// Whether this run is on PostgreSQL (`TEST_DATABASE_URL`) rather than SQLite files.
pub fn on_postgres() -> bool {
    std::env::var("TEST_DATABASE_URL").is_ok_and(|u| u.starts_with("postgres"))
}

/// A database for one test. A SQLite file goes with its folder when this is dropped.
pub struct TestDb {
    /// Its URL.
    pub url: String,
    _dir: Option<TempDir>,
}

impl TestDb {
    /// A new, empty database whose name begins with `name`.
    pub async fn fresh(name: &str) -> TestDb {
        match std::env::var("TEST_DATABASE_URL") {
            Ok(base) if base.starts_with("postgres") => {
                let db_name = format!(
                    "sd_test_{}_{}",
                    name,
                    auth_server::oauth::secrets::random_b64(9)
                        .to_lowercase()
                        .replace(['-', '_'], "x")
                );
                let mut conn = sqlx::PgConnection::connect(&base)
                    .await
                    .expect("TEST_DATABASE_URL is set but PostgreSQL is unreachable");
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {db_name}")))
                    .execute(&mut conn)
                    .await
                    .expect("cannot create a test database");
                conn.close().await.ok();
                let (server, _) = base
                    .rsplit_once('/')
                    .expect("a postgres URL with a database name");
                TestDb {
                    url: format!("{server}/{db_name}"),
                    _dir: None,
                }
            }
            _ => {
                let dir = tempfile::tempdir().unwrap();
                TestDb {
                    url: format!("sqlite://{}/{name}.db", dir.path().display()),
                    _dir: Some(dir),
                }
            }
        }
    }
}
