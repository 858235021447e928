//! The test stack: an auth server and a directory API on port 0 with fresh databases, the
//! design's two clients and two people, and websites started on demand.

use std::sync::Arc;

use reqwest::Method;
use serde_json::Value;

use super::database::TestDb;
use super::seed::{self, Clients, TestClient};
use super::service::{
    ApiDb, AuthDb, Clock as _, ManualClock, RunningService, start_api, start_auth, start_web,
};

/// All the services of one test, with their clients.
pub struct TestStack {
    /// The authorization server; `db` is a pool of the test's own on its database.
    pub auth: RunningService<AuthDb>,
    /// The directory API; `db` is a pool of the test's own on its database.
    pub api: RunningService<ApiDb>,
    /// The web app's client (`directory-web`): read for itself, read + profile:write for users.
    pub web_client: TestClient,
    /// The HR import client (`hr-sync`): read + admin for itself.
    pub hr_client: TestClient,
    /// A client that follows no redirects.
    pub http: reqwest::Client,
}

impl TestStack {
    /// A stack with default settings.
    pub async fn start() -> TestStack {
        Self::start_with(|_| {}).await
    }

    /// A stack whose auth-server settings are adjusted by `configure` first.
    pub async fn start_with(
        configure: impl FnOnce(&mut auth_server::config::Settings),
    ) -> TestStack {
        let database = TestDb::fresh("auth").await;
        let clock = Arc::new(ManualClock::starting_now());
        let (
            db,
            Clients {
                web_client,
                hr_client,
            },
        ) = seed::auth_database(&database.url, clock.now()).await;
        let auth = start_auth(
            &database.url,
            "127.0.0.1:0".parse().unwrap(),
            clock.clone(),
            configure,
        )
        .await
        .with_db(db, Some(database));
        let api = fresh_api(&auth.base_url, clock.now(), |_| {}).await;
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .unwrap();
        TestStack {
            auth,
            api,
            web_client,
            hr_client,
            http,
        }
    }

    /// Starts a website for this stack.
    pub async fn start_web(&self) -> RunningService {
        let api = self.api.base_url.clone();
        self.start_web_with_api(&api).await
    }

    /// Starts a website for this stack, as the `directory-web` client, against `api_url`
    /// (normally this stack's API).
    pub async fn start_web_with_api(&self, api_url: &str) -> RunningService {
        self.start_web_configured(api_url, |_| {}).await
    }

    /// Starts a website whose settings `configure` adjusts first. It has a clock of its own,
    /// starting at the auth server's time. Once its port is known, `{its address}/sign-in/callback`
    /// (and `{its public URL}/sign-in/callback` when one is configured) becomes a redirect URI
    /// of the web app's client.
    pub async fn start_web_configured(
        &self,
        api_url: &str,
        configure: impl FnOnce(&mut directory_web::config::Settings),
    ) -> RunningService {
        let clock = Arc::new(ManualClock::at(self.auth.clock.now()));
        let mut public_url = None;
        let web = start_web(
            api_url,
            &self.auth.base_url,
            &self.web_client,
            clock,
            |settings| {
                configure(settings);
                public_url = Some(settings.serve.public_url.clone());
            },
        )
        .await;
        self.register_redirect_uri(&web.url("/sign-in/callback"))
            .await;
        if let Some(public) = public_url.filter(|u| !u.ends_with(":0")) {
            self.register_redirect_uri(&format!(
                "{}/sign-in/callback",
                public.trim_end_matches('/')
            ))
            .await;
        }
        web
    }

    /// Adds `uri` to the redirect URIs of the web app's client.
    pub async fn register_redirect_uri(&self, uri: &str) {
        staff_directory::seed::redirect_uri(&self.auth.db, &self.web_client.id, uri)
            .await
            .unwrap();
    }

    /// Starts a website whose public URL is `https://directory.example.edu` (served over
    /// plain HTTP here, as behind a TLS-terminating proxy).
    pub async fn start_web_over_https(&self) -> RunningService {
        self.start_web_configured(&self.api.base_url, |settings| {
            settings.serve.public_url = "https://directory.example.edu".into()
        })
        .await
    }

    /// Moves the auth server's and the API's clocks forward by `seconds`.
    pub fn advance_clocks(&self, seconds: i64) {
        self.auth.clock.advance(seconds);
        self.api.clock.advance(seconds);
    }

    /// An auth-server URL.
    pub fn auth_url(&self, path: &str) -> String {
        self.auth.url(path)
    }

    /// An API URL.
    pub fn api_url(&self, path: &str) -> String {
        self.api.url(path)
    }

    /// A request to the API with `token` as bearer, if any.
    pub fn api(&self, method: Method, path: &str, token: Option<&str>) -> reqwest::RequestBuilder {
        let request = self.http.request(method, self.api_url(path));
        match token {
            Some(t) => request.bearer_auth(t),
            None => request,
        }
    }

    /// The JSON body of `GET path` on the API, with `token`.
    pub async fn get_json(&self, path: &str, token: Option<&str>) -> Value {
        self.api(Method::GET, path, token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// The id of `username`'s live record.
    pub async fn staff_id(&self, username: &str) -> i64 {
        self.api
            .db
            .staff_by_username(username)
            .await
            .unwrap()
            .unwrap()
            .record
            .id
    }

    /// Registers another client with a generated secret.
    pub async fn register_client(
        &self,
        id: &str,
        policy: auth_server::oauth::policy::ClientPolicy,
    ) -> TestClient {
        seed::register(&self.auth.db, id, policy, self.auth.clock.now()).await
    }
}

/// A directory API on a fresh database of its own seeded with the demo staff, trusting
/// `issuer`, its clock at `now`, its settings adjusted by `configure`.
pub async fn fresh_api(
    issuer: &str,
    now: i64,
    configure: impl FnOnce(&mut directory_api::config::Settings),
) -> RunningService<ApiDb> {
    let database = TestDb::fresh("api").await;
    let db = seed::api_database(&database.url, now).await;
    let clock = Arc::new(ManualClock::at(now));
    start_api(&database.url, issuer, clock, configure)
        .await
        .with_db(db, Some(database))
}
