//! The people and clients every test starts with, seeded through `staff_directory::seed`
//! (the same code the demo launcher and the benchmark use).

use secrecy::ExposeSecret as _;
use staff_directory::seed::{self, Secret};

use super::service::{ApiDb, AuthDb};

/// Someone who signs in during a test.
pub type TestUser<'a> = seed::User<'a>;

/// Alice, a member of staff (School of Computer Science).
pub const ALICE: TestUser<'static> = TestUser {
    username: "ajohnson",
    password: "alice-password-1",
};
/// Ben, another member of staff (School of Chemistry).
pub const BEN: TestUser<'static> = TestUser {
    username: "bokafor",
    password: "ben-password-2",
};

/// A registered client and its secret.
#[derive(Clone, Debug)]
pub struct TestClient {
    /// Its `client_id`.
    pub id: String,
    /// Its secret, in clear.
    pub secret: String,
}

impl TestClient {
    /// The same client id with a wrong secret: someone guessing.
    pub fn guessing(&self) -> TestClient {
        TestClient {
            id: self.id.clone(),
            secret: "guess".into(),
        }
    }
}

/// The demo's web app client, with its published secret (see [`demo_auth_database`]).
pub fn demo_web_client() -> TestClient {
    TestClient {
        id: staff_directory::demo::WEB_CLIENT_ID.to_owned(),
        secret: staff_directory::demo::WEB_CLIENT_SECRET.to_owned(),
    }
}

/// The two client registrations of the design, with generated secrets.
pub struct Clients {
    /// The web app's client (`directory-web`): read for itself, read + profile:write for users
    /// (password and authorization_code grants); its redirect URIs are added as websites
    /// start, since a test website binds port 0.
    pub web_client: TestClient,
    /// The HR import client (`hr-sync`): read + admin for itself.
    pub hr_client: TestClient,
}

/// Migrates the auth server's database at `url` and seeds it: the web app's and the HR job's
/// clients (generated secrets), Alice and Ben.
pub async fn auth_database(url: &str, now: i64) -> (AuthDb, Clients) {
    let db = seed::auth_database(url).await.unwrap();
    let clients = Clients {
        web_client: register(
            &db,
            staff_directory::demo::WEB_CLIENT_ID,
            staff_directory::demo::web_policy().unwrap(),
            now,
        )
        .await,
        hr_client: register(
            &db,
            staff_directory::demo::HR_CLIENT_ID,
            staff_directory::demo::hr_policy().unwrap(),
            now,
        )
        .await,
    };
    seed::users(&db, &[ALICE, BEN], now).await.unwrap();
    (db, clients)
}

/// Migrates the auth server's database at `url` and seeds it as the demo launcher does: the
/// demo's clients with their published secrets, and the demo's people.
pub async fn demo_auth_database(url: &str, now: i64) -> AuthDb {
    let db = seed::auth_database(url).await.unwrap();
    staff_directory::demo::seed_auth(&db, now).await.unwrap();
    db
}

/// Migrates the directory API's database at `url` and loads the demo staff.
pub async fn api_database(url: &str, now: i64) -> ApiDb {
    seed::directory_database(url, now).await.unwrap()
}

/// Registers the client `id` with `policy` and a generated secret.
pub async fn register(
    db: &AuthDb,
    id: &str,
    policy: auth_server::oauth::policy::ClientPolicy,
    now: i64,
) -> TestClient {
    let secret = seed::client(db, id, &policy, &[], Secret::Generated, now)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("the client {id} is already registered"));
    TestClient {
        id: id.to_owned(),
        secret: secret.expose_secret().to_owned(),
    }
}
