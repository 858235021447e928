//! A deployment for the operations tests (graceful shutdown, scale-out, faults): its two
//! databases seeded once, so that several instances of a service — in this process or as
//! processes of their own — share one database; the HTTP client a load balancer would be; and
//! a clock that runs faster for the services.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;

use super::database::TestDb;
use super::seed::{self, Clients, TestClient};
use super::service::{Clock as _, ManualClock, RunningService, SystemClock, start_auth};

/// The two databases of one deployment, migrated and seeded: the demo staff, the web app's and
/// the HR job's clients, Alice and Ben, and a first signing key (so that instances started
/// together do not each create one). Every instance of a service uses the same database: one
/// PostgreSQL database, or one SQLite file.
pub struct Deployment {
    /// The auth server's database.
    pub auth_db: TestDb,
    /// The directory API's database.
    pub api_db: TestDb,
    /// The web app's client registration.
    pub web_client: TestClient,
    /// The HR job's client registration.
    pub hr_client: TestClient,
}

impl Deployment {
    /// Creates and seeds both databases.
    pub async fn new() -> Deployment {
        let auth_db = TestDb::fresh("auth").await;
        let api_db = TestDb::fresh("api").await;
        let now = SystemClock.now();
        let (
            db,
            Clients {
                web_client,
                hr_client,
            },
        ) = seed::auth_database(&auth_db.url, now).await;
        auth_server::admin::rotate_keys(&db, now).await.unwrap();
        db.close().await;
        seed::api_database(&api_db.url, now).await.close().await;
        Deployment {
            auth_db,
            api_db,
            web_client,
            hr_client,
        }
    }
}

/// An authorization server instance on `db_url`, at `bind`, reading time from `clock`. All
/// instances of one deployment share an issuer identifier.
pub async fn auth_instance(
    db_url: &str,
    bind: SocketAddr,
    issuer: Option<&str>,
    clock: Arc<ManualClock>,
) -> RunningService {
    start_auth(db_url, bind, clock, |settings| {
        settings.serve.issuer = issuer.map(str::to_owned)
    })
    .await
}

/// An HTTP client that opens a new connection for every request, as a load balancer without
/// upstream keep-alive does: a request is then either refused before anything is sent
/// (the instance is not listening) or answered by a listening instance.
pub fn fresh_connections() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// Advances `clocks` by one second every 100 ms of real time until dropped: time runs ten
/// times faster for the services, the same for all. For tests of behaviour that is timed on
/// both sides, such as key rotation (the issuer's activation delay against the API's bounded
/// refetch rate, which counts real time).
pub struct FastTime(JoinHandle<()>);

impl FastTime {
    /// Starts advancing `clocks`.
    pub fn start(clocks: Vec<Arc<ManualClock>>) -> FastTime {
        FastTime(tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(100));
            // A stalled machine slows the services' time down, never speeds it up.
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                for clock in &clocks {
                    clock.advance(1);
                }
            }
        }))
    }
}

impl Drop for FastTime {
    fn drop(&mut self) {
        self.0.abort();
    }
}
