//! The test stack: starts services on port 0 with fresh databases and hands back clients.

use std::sync::Arc;

use auth_server::admin;
use auth_server::clock::{Clock as _, ManualClock};
use auth_server::config::Settings;
use auth_server::oauth::client_auth::ClientId;
use auth_server::oauth::policy::ClientPolicy;
use auth_server::oauth::username::Username;
use auth_server::startup::Application;
use auth_server::store::Db;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::{Method, Response, StatusCode};
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::Value;
use sqlx::Connection as _;
use tempfile::TempDir;

/// Alice, a member of staff (School of Computer Science).
pub const ALICE: (&str, &str) = ("ajohnson", "alice-password-1");
/// Ben, another member of staff (School of Chemistry).
pub const BEN: (&str, &str) = ("bokafor", "ben-password-2");

/// A database for one test: a SQLite file in a temporary folder, or a new PostgreSQL
/// database when `TEST_DATABASE_URL` names a server.
pub struct TestDb {
    pub url: String,
    _dir: Option<TempDir>,
}

impl TestDb {
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

/// A registered client and its secret.
#[derive(Clone, Debug)]
pub struct TestClient {
    pub id: String,
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

/// How a client authenticates in a request.
#[derive(Clone, Copy, Debug)]
pub enum Auth {
    /// `client_secret_basic`, form-encoded per RFC 6749 Appendix B.
    Basic,
    /// `client_secret_post`.
    Post,
}

/// A running auth server.
pub struct AuthServer {
    pub base: String,
    /// Its database's URL.
    pub db_url: String,
    /// Where `/metrics` is served when `--metrics-bind` was set.
    pub metrics_address: Option<std::net::SocketAddr>,
    pub clock: Arc<ManualClock>,
    pub db: Db,
    handle: actix_web::dev::ServerHandle,
    _db: TestDb,
}

impl Drop for AuthServer {
    fn drop(&mut self) {
        // `stop` sends the command at once; the returned future only waits for completion.
        drop(self.handle.stop(false));
    }
}

impl AuthServer {
    /// Stops the auth server (an outage), waiting until it no longer answers.
    pub async fn stop(&self) {
        self.handle.stop(false).await;
    }
}

/// A running website.
pub struct WebServer {
    pub base: String,
    pub clock: Arc<directory_web::clock::ManualClock>,
    handle: actix_web::dev::ServerHandle,
}

impl Drop for WebServer {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

impl WebServer {
    /// A page of the site.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }
}

/// A running directory API.
pub struct ApiServer {
    pub base: String,
    pub clock: Arc<directory_api::clock::ManualClock>,
    pub db: directory_api::store::Db,
    /// Where `/metrics` is served when `--metrics-bind` is set.
    pub metrics_address: Option<std::net::SocketAddr>,
    handle: actix_web::dev::ServerHandle,
    _db: TestDb,
}

impl Drop for ApiServer {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

impl ApiServer {
    /// Stops the API (an outage), waiting until it no longer answers.
    pub async fn stop(&self) {
        self.handle.stop(false).await;
    }
}

/// All the services of one test, with their clients.
pub struct TestStack {
    pub auth: AuthServer,
    pub api: ApiServer,
    /// The web app's client (`directory-web`): read for itself, read + profile:write for users.
    pub web: TestClient,
    /// The HR import client (`hr-sync`): read + admin for itself.
    pub hr: TestClient,
    pub http: reqwest::Client,
}

impl TestStack {
    /// A stack with default settings.
    pub async fn start() -> TestStack {
        Self::start_with(|_| {}).await
    }

    /// A stack whose auth-server settings are adjusted by `configure` first.
    pub async fn start_with(configure: impl FnOnce(&mut Settings)) -> TestStack {
        let test_db = TestDb::fresh("auth").await;
        let db = Db::connect(&test_db.url).await.unwrap();
        db.migrate().await.unwrap();
        let clock = Arc::new(ManualClock::starting_now());
        let now = clock.now();
        let web = register(
            &db,
            "directory-web",
            staff_directory::demo::web_policy().unwrap(),
            now,
        )
        .await;
        let hr = register(
            &db,
            "hr-sync",
            staff_directory::demo::hr_policy().unwrap(),
            now,
        )
        .await;
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
        let mut settings = Settings::new(test_db.url.clone(), "127.0.0.1:0".parse().unwrap());
        settings.serve.workers = Some(1);
        configure(&mut settings);
        let app = Application::build_with_clock(settings, clock.clone())
            .await
            .unwrap();
        let base = format!("http://{}", app.address());
        let metrics_address = app.metrics_address();
        let handle = app.handle();
        tokio::spawn(app.run_until_stopped());
        let api = start_api(&base, clock.now(), |_| {}).await;
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .unwrap();
        TestStack {
            auth: AuthServer {
                base,
                db_url: test_db.url.clone(),
                metrics_address,
                clock,
                db,
                handle,
                _db: test_db,
            },
            api,
            web,
            hr,
            http,
        }
    }

    /// Starts a website for this stack, as the `directory-web` client, against `api_url`
    /// (normally this stack's API).
    pub async fn start_web_with_api(&self, api_url: &str) -> WebServer {
        self.start_web_configured(api_url, |_| {}).await
    }

    /// Starts a website whose settings `configure` adjusts first.
    pub async fn start_web_configured(
        &self,
        api_url: &str,
        configure: impl FnOnce(&mut directory_web::config::Settings),
    ) -> WebServer {
        let clock = Arc::new(directory_web::clock::ManualClock::at(self.auth.clock.now()));
        let mut settings = directory_web::config::Settings::new(
            "127.0.0.1:0".parse().unwrap(),
            api_url,
            &self.auth.base,
            &self.web.id,
            &self.web.secret,
        );
        settings.serve.workers = Some(1);
        configure(&mut settings);
        let app = directory_web::startup::Application::build_with_clock(settings, clock.clone())
            .await
            .unwrap();
        let base = format!("http://{}", app.address());
        let handle = app.handle();
        tokio::spawn(app.run_until_stopped());
        WebServer {
            base,
            clock,
            handle,
        }
    }

    /// Starts a website for this stack.
    /// Starts a website whose public URL is `https://directory.example.edu` (served over
    /// plain HTTP here, as behind a TLS-terminating proxy).
    pub async fn start_web_over_https(&self) -> WebServer {
        self.start_web_configured(&self.api.base, |settings| {
            settings.serve.public_url = "https://directory.example.edu".into()
        })
        .await
    }

    pub async fn start_web(&self) -> WebServer {
        let api = self.api.base.clone();
        self.start_web_with_api(&api).await
    }

    /// Moves every service's clock forward by `seconds`.
    pub fn advance_clocks(&self, seconds: i64) {
        self.auth.clock.advance(seconds);
        self.api.clock.advance(seconds);
    }

    /// An API URL.
    pub fn api_url(&self, path: &str) -> String {
        format!("{}{}", self.api.base, path)
    }

    /// A request to the API with `token` as bearer, if any.
    pub fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
    ) -> reqwest::RequestBuilder {
        let request = self.http.request(method, self.api_url(path));
        match token {
            Some(t) => request.bearer_auth(t),
            None => request,
        }
    }

    /// The JSON body of `GET path` on the API, with `token`.
    pub async fn get_json(&self, path: &str, token: Option<&str>) -> Value {
        self.api(reqwest::Method::GET, path, token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// The web app's own access token.
    pub async fn web_app_token(&self) -> String {
        self.client_token(&self.web, None).await["access_token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The HR job's access token.
    pub async fn hr_token(&self) -> String {
        self.client_token(&self.hr, None).await["access_token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// A member of staff's access token.
    pub async fn user_token(&self, user: (&str, &str)) -> String {
        self.user_tokens(user).await["access_token"]
            .as_str()
            .unwrap()
            .to_owned()
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

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.auth.base, path)
    }

    /// POSTs a form to an auth-server endpoint, the client authenticating as `auth` says.
    pub async fn post_form(
        &self,
        path: &str,
        client: Option<(&TestClient, Auth)>,
        form: &[(&str, &str)],
    ) -> Response {
        let mut pairs: Vec<(String, String)> = form
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut request = self.http.post(self.url(path));
        match client {
            Some((c, Auth::Basic)) => {
                request = request.header("Authorization", basic(&c.id, &c.secret))
            }
            Some((c, Auth::Post)) => {
                pairs.push(("client_id".into(), c.id.clone()));
                pairs.push(("client_secret".into(), c.secret.clone()));
            }
            None => {}
        }
        request
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(encode_form(&pairs))
            .send()
            .await
            .unwrap()
    }

    /// POSTs to `/oauth/token`.
    /// A `client_credentials` request authenticated as `client`, answer unchecked.
    pub async fn client_credentials(&self, client: &TestClient) -> Response {
        self.token(client, &[("grant_type", "client_credentials")])
            .await
    }

    pub async fn token(&self, client: &TestClient, form: &[(&str, &str)]) -> Response {
        self.post_form("/oauth/token", Some((client, Auth::Basic)), form)
            .await
    }

    /// A client_credentials token, asserting success.
    pub async fn client_token(&self, client: &TestClient, scope: Option<&str>) -> Value {
        let mut form = vec![("grant_type", "client_credentials")];
        if let Some(s) = scope {
            form.push(("scope", s));
        }
        ok_json(self.token(client, &form).await).await
    }

    /// Signs a user in through the web client, returning the raw response.
    pub async fn sign_in(&self, username: &str, password: &str) -> Response {
        self.token(
            &self.web,
            &[
                ("grant_type", "password"),
                ("username", username),
                ("password", password),
            ],
        )
        .await
    }

    /// Signs a user in, asserting success.
    pub async fn user_tokens(&self, (username, password): (&str, &str)) -> Value {
        ok_json(self.sign_in(username, password).await).await
    }

    /// Refreshes with the web client.
    pub async fn refresh(&self, refresh_token: &str, scope: Option<&str>) -> Response {
        let mut form = vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ];
        if let Some(s) = scope {
            form.push(("scope", s));
        }
        self.token(&self.web, &form).await
    }

    /// Introspects `token` as `client`, asserting a 200.
    pub async fn introspect(&self, client: &TestClient, token: &str) -> Value {
        ok_json(
            self.post_form(
                "/oauth/introspect",
                Some((client, Auth::Basic)),
                &[("token", token)],
            )
            .await,
        )
        .await
    }

    /// Registers another client with a generated secret.
    pub async fn register_client(&self, id: &str, policy: ClientPolicy) -> TestClient {
        register(&self.auth.db, id, policy, self.auth.clock.now()).await
    }
}

/// Starts a directory API trusting `issuer`, seeded with the demo staff.
pub async fn start_api(
    issuer: &str,
    now: i64,
    configure: impl FnOnce(&mut directory_api::config::Settings),
) -> ApiServer {
    let test_db = TestDb::fresh("api").await;
    let db = directory_api::store::Db::connect(&test_db.url)
        .await
        .unwrap();
    db.migrate().await.unwrap();
    directory_api::seed::seed_demo(&db, now).await.unwrap();
    let clock = Arc::new(directory_api::clock::ManualClock::at(now));
    let mut settings = directory_api::config::Settings::new(
        test_db.url.clone(),
        "127.0.0.1:0".parse().unwrap(),
        issuer,
    );
    settings.serve.workers = Some(1);
    configure(&mut settings);
    let app = directory_api::startup::Application::build_with_clock(settings, clock.clone())
        .await
        .unwrap();
    let base = format!("http://{}", app.address());
    let metrics_address = app.metrics_address();
    let handle = app.handle();
    tokio::spawn(app.run_until_stopped());
    ApiServer {
        base,
        clock,
        db,
        metrics_address,
        handle,
        _db: test_db,
    }
}

/// Asserts an RFC 9457 problem: status, `code`, content type. Returns the body.
pub async fn assert_problem(response: Response, status: u16, code: &str) -> Value {
    assert_eq!(response.status().as_u16(), status, "status");
    assert_eq!(
        header(&response, "content-type"),
        Some("application/problem+json")
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], code, "problem code in {body}");
    assert_eq!(body["status"], status);
    assert!(body["title"].is_string() && body["detail"].is_string() && body["type"].is_string());
    body
}

/// Asserts the RFC 6750 answer to a request without credentials: 401, a bare challenge.
pub async fn assert_unauthenticated(response: Response) {
    assert_eq!(
        header(&response, "www-authenticate"),
        Some("Bearer realm=\"staff-directory\"")
    );
    assert_problem(response, 401, "unauthenticated").await;
}

/// Asserts RFC 6750 `invalid_token`: 401 with the error in the challenge.
pub async fn assert_invalid_token(response: Response) -> Value {
    let challenge = header(&response, "www-authenticate")
        .unwrap_or_default()
        .to_owned();
    assert!(
        challenge.starts_with("Bearer realm=\"staff-directory\", error=\"invalid_token\""),
        "{challenge}"
    );
    assert_problem(response, 401, "invalid_token").await
}

/// Asserts RFC 6750 `insufficient_scope` naming `scope`.
pub async fn assert_insufficient_scope(response: Response, scope: &str) {
    let challenge = header(&response, "www-authenticate")
        .unwrap_or_default()
        .to_owned();
    assert_eq!(
        challenge,
        format!(
            "Bearer realm=\"staff-directory\", error=\"insufficient_scope\", scope=\"{scope}\""
        )
    );
    assert_problem(response, 403, "insufficient_scope").await;
}

async fn register(db: &Db, id: &str, policy: ClientPolicy, now: i64) -> TestClient {
    let secret = admin::create_client(db, &ClientId::parse(id).unwrap(), &policy, now)
        .await
        .unwrap();
    TestClient {
        id: id.to_owned(),
        secret: secret.expose_secret().to_owned(),
    }
}

/// `application/x-www-form-urlencoded` serialisation.
pub fn encode_form(pairs: &[(String, String)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// The `Authorization: Basic` value of RFC 6749 §2.3.1: id and secret form-encoded first.
pub fn basic(id: &str, secret: &str) -> String {
    let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let raw = format!("{}:{}", enc(id), enc(secret));
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

/// The value of a response header.
pub fn header<'a>(response: &'a Response, name: &str) -> Option<&'a str> {
    response.headers().get(name).and_then(|v| v.to_str().ok())
}

/// Asserts the headers every token, revocation and introspection response carries.
pub fn assert_no_store(response: &Response) {
    assert_eq!(
        header(response, "cache-control"),
        Some("no-store"),
        "Cache-Control"
    );
    assert_eq!(header(response, "pragma"), Some("no-cache"), "Pragma");
}

/// Asserts a 200 JSON response with no-store headers and returns the body.
pub async fn ok_json(response: Response) -> Value {
    let status = response.status();
    assert_no_store(&response);
    let body = response.text().await.unwrap();
    assert_eq!(status, StatusCode::OK, "body: {body}");
    serde_json::from_str(&body).unwrap()
}

/// Asserts an RFC 6749 §5.2 error: status, code, JSON, no-store, and a description within
/// %x20-21 / %x23-5B / %x5D-7E. Returns the body.
pub async fn assert_oauth_error(response: Response, status: u16, code: &str) -> Value {
    assert_eq!(response.status().as_u16(), status, "status");
    assert_no_store(&response);
    assert!(
        header(&response, "content-type").is_some_and(|c| c.starts_with("application/json")),
        "Content-Type"
    );
    if status == 401 {
        assert_eq!(
            header(&response, "www-authenticate"),
            Some("Basic realm=\"staff-directory\"")
        );
    }
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], code, "error code in {body}");
    for field in ["error", "error_description"] {
        if let Some(text) = body[field].as_str() {
            assert!(
                text.bytes().all(|b| b == 0x20
                    || b == 0x21
                    || (0x23..=0x5B).contains(&b)
                    || (0x5D..=0x7E).contains(&b)),
                "{field} has characters outside RFC 6749 §5.2's set: {text:?}"
            );
        }
    }
    body
}

/// The claims of a JWT, decoded without verification (for inspection only).
pub fn claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// The header of a JWT, decoded without verification.
pub fn jwt_header(jwt: &str) -> Value {
    let header = jwt.split('.').next().expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap()
}

// A browser for the website, and the API calls that edit a record.

/// A browser with the site's two cookies (the session, and the device cookie a sign-in
/// leaves), following no redirects.
pub struct Browser<'a> {
    web: &'a WebServer,
    pub http: reqwest::Client,
    /// The session cookie, `name=value`.
    pub cookie: Option<String>,
    /// The device cookie, `name=value`, once a sign-in here has succeeded.
    pub device_cookie: Option<String>,
}

/// What the browser got back.
pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub set_cookie: Option<String>,
    pub html: String,
}

impl<'a> Browser<'a> {
    pub fn new(web: &'a WebServer) -> Self {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self {
            web,
            http,
            cookie: None,
            device_cookie: None,
        }
    }

    pub async fn send(
        &mut self,
        method: Method,
        path: &str,
        form: Option<&[(&str, &str)]>,
        extra: &[(&str, &str)],
    ) -> Page {
        let mut request = self.http.request(method, self.web.url(path));
        let sent: Vec<&str> = [&self.cookie, &self.device_cookie]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect();
        if !sent.is_empty() {
            request = request.header("Cookie", sent.join("; "));
        }
        for (name, value) in extra {
            request = request.header(*name, *value);
        }
        if let Some(form) = form {
            let body = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(form)
                .finish();
            request = request
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(body);
        }
        let r = request.send().await.unwrap();
        let status = r.status().as_u16();
        let location = r
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_owned());
        let mut set_cookie = None;
        for set in r.headers().get_all("set-cookie") {
            let set = set.to_str().unwrap().to_owned();
            let pair = set.split(';').next().unwrap().to_owned();
            let emptied = pair
                .split_once('=')
                .is_none_or(|(_, value)| value.is_empty());
            let kept = if emptied || set.contains("Max-Age=0") {
                None
            } else {
                Some(pair.clone())
            };
            if pair.contains("sd-device=") {
                self.device_cookie = kept;
            } else {
                self.cookie = kept;
                set_cookie = Some(set);
            }
        }
        Page {
            status,
            location,
            set_cookie,
            html: r.text().await.unwrap(),
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        self.send(Method::GET, path, None, &[]).await
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        self.send(Method::POST, path, Some(form), &[]).await
    }
}

/// The value of a hidden input in a page (an ETag's quotes unescaped).
pub fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in page"))
        + marker.len();
    let end = start + html[start..].find('"').unwrap();
    html[start..end]
        .replace("&quot;", "\"")
        .replace("&#34;", "\"")
}

/// A browser signed in on the website as `user`.
pub async fn signed_in<'a>(web: &'a WebServer, (user, password): (&str, &str)) -> Browser<'a> {
    let mut b = Browser::new(web);
    let form = b.get("/sign-in").await;
    let csrf = hidden(&form.html, "csrf");
    let r = b
        .post(
            "/sign-in",
            &[("csrf", &csrf), ("username", user), ("password", password)],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.html);
    assert_eq!(r.location.as_deref(), Some("/profile"));
    b
}

/// The current `ETag` of record `id`, read with `token`.
pub async fn etag_of(s: &TestStack, id: i64, token: &str) -> String {
    let r = s
        .api(Method::GET, &format!("/staff/{id}"), Some(token))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    header(&r, "etag").unwrap().to_owned()
}

/// `PATCH /staff/{id}`, with a bearer token and an `If-Match` when given.
pub async fn patch(
    s: &TestStack,
    id: i64,
    token: Option<&str>,
    if_match: Option<&str>,
    body: Value,
) -> reqwest::Response {
    let mut r = s
        .api(Method::PATCH, &format!("/staff/{id}"), token)
        .json(&body);
    if let Some(tag) = if_match {
        r = r.header("If-Match", tag);
    }
    r.send().await.unwrap()
}

/// The site's count of token requests, from its `/metrics`.
pub async fn web_app_token_requests(web: &WebServer, http: &reqwest::Client) -> u64 {
    let text = text_of(http, &web.url("/metrics")).await;
    text.lines()
        .find_map(|l| l.strip_prefix("web_app_token_requests_total "))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no token counter in {text}"))
}

/// The body of `GET url`, which must answer 200 (a `/metrics` page, say).
/// The value of a Prometheus series in `text`: a name with no labels, or a name with exactly
/// these labels.
pub fn series(text: &str, name_and_labels: &str) -> Option<f64> {
    text.lines().find_map(|l| {
        l.strip_prefix(name_and_labels)
            .and_then(|rest| rest.strip_prefix(' '))
            .and_then(|v| v.trim().parse().ok())
    })
}

pub async fn text_of(http: &reqwest::Client, url: &str) -> String {
    let r = http.get(url).send().await.unwrap();
    assert_eq!(r.status(), 200, "GET {url}");
    r.text().await.unwrap()
}
