//! Support for the operations tests (graceful shutdown, scale-out, faults): a deployment's two
//! databases seeded once, services run as their own processes through the launcher (so that
//! they can receive a real SIGTERM or SIGKILL) or in this process as several instances on one
//! database, a round-robin client that behaves like a load balancer, and a TCP proxy in front of
//! PostgreSQL that can be cut and restored.

mod balancer;
mod in_process;
mod process;
mod proxy;

use std::time::{Duration, Instant};

use auth_server::admin;
use auth_server::clock::{Clock as _, SystemClock};
use auth_server::oauth::client_auth::ClientId;
use auth_server::oauth::username::Username;
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::Value;

pub use balancer::RoundRobin;
pub use in_process::{
    FastTime, InProcess, api_instance, auth_instance, web_instance, web_instance_with,
};
pub use process::{Process, spawn_api, spawn_auth, spawn_web};
pub use proxy::CutProxy;

use crate::harness::{ALICE, BEN, TestClient, TestDb, basic};

/// How long anything in these tests may take to become true on a loaded two-core machine.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// Whether this run is on PostgreSQL (`TEST_DATABASE_URL`) rather than SQLite files.
pub fn on_postgres() -> bool {
    std::env::var("TEST_DATABASE_URL").is_ok_and(|u| u.starts_with("postgres"))
}

/// The two databases of one deployment, migrated and seeded: the demo staff, the web app's and
/// the HR job's clients, Alice and Ben, and a first signing key (so that instances started
/// together do not each create one). Every instance of a service uses the same database: one
/// PostgreSQL database, or one SQLite file.
pub struct Deployment {
    pub auth_db: TestDb,
    pub api_db: TestDb,
    pub web: TestClient,
    pub hr: TestClient,
}

impl Deployment {
    pub async fn new() -> Deployment {
        let auth_db = TestDb::fresh("auth").await;
        let api_db = TestDb::fresh("api").await;
        let now = SystemClock.now();
        let db = auth_server::store::Db::connect(&auth_db.url).await.unwrap();
        db.migrate().await.unwrap();
        let mut clients = Vec::new();
        for (id, policy) in [
            (
                "directory-web",
                staff_directory::demo::web_policy().unwrap(),
            ),
            ("hr-sync", staff_directory::demo::hr_policy().unwrap()),
        ] {
            let secret = admin::create_client(&db, &ClientId::parse(id).unwrap(), &policy, now)
                .await
                .unwrap();
            clients.push(TestClient {
                id: id.to_owned(),
                secret: secret.expose_secret().to_owned(),
            });
        }
        for (user, password) in [ALICE, BEN] {
            admin::create_user(
                &db,
                &Username::parse(user).unwrap(),
                &SecretString::from(password),
                now,
            )
            .await
            .unwrap();
        }
        admin::rotate_keys(&db, now).await.unwrap();
        db.close().await;
        let api = directory_api::store::Db::connect(&api_db.url)
            .await
            .unwrap();
        api.migrate().await.unwrap();
        directory_api::seed::seed_demo(&api, now).await.unwrap();
        api.close().await;
        let hr = clients.pop().unwrap();
        let web = clients.pop().unwrap();
        Deployment {
            auth_db,
            api_db,
            web,
            hr,
        }
    }
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

/// A `client_credentials` request for `client` to the token endpoint at `base`.
pub fn client_credentials(
    http: &reqwest::Client,
    base: &str,
    client: &TestClient,
) -> reqwest::RequestBuilder {
    http.post(format!("{base}/oauth/token"))
        .header("Authorization", basic(&client.id, &client.secret))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
}

/// A password-grant request for `user` through the web app's client.
pub fn password_grant(
    http: &reqwest::Client,
    base: &str,
    web: &TestClient,
    (username, password): (&str, &str),
) -> reqwest::RequestBuilder {
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("grant_type", "password"),
            ("username", username),
            ("password", password),
        ])
        .finish();
    http.post(format!("{base}/oauth/token"))
        .header("Authorization", basic(&web.id, &web.secret))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body)
}

/// A refresh request with the web app's client.
pub fn refresh_grant(
    http: &reqwest::Client,
    base: &str,
    web: &TestClient,
    refresh_token: &str,
) -> reqwest::RequestBuilder {
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ])
        .finish();
    http.post(format!("{base}/oauth/token"))
        .header("Authorization", basic(&web.id, &web.secret))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body)
}

/// The access token of a successful token response.
pub async fn access_token(response: reqwest::Response) -> String {
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    body["access_token"].as_str().unwrap().to_owned()
}

/// Sends a token request and returns the access token of its 200 answer.
pub async fn token_from(request: reqwest::RequestBuilder) -> String {
    access_token(request.send().await.unwrap()).await
}

/// Polls `check` every 100 ms until it holds, failing after [`PATIENCE`].
pub async fn poll_until<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + PATIENCE;
    while !check().await {
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
