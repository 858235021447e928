//! Support for the operations tests (graceful shutdown, scale-out, faults): a deployment's two
//! databases seeded once, services run as their own processes through the launcher (so that
//! they can receive a real SIGTERM or SIGKILL) or in this process as several instances on one
//! database, a round-robin client that behaves like a load balancer, and a TCP proxy in front of
//! PostgreSQL that can be cut and restored.

use std::net::SocketAddr;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use auth_server::admin;
use auth_server::clock::{Clock as _, ManualClock, SystemClock};
use auth_server::oauth::client_auth::ClientId;
use auth_server::oauth::username::Username;
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::Value;
use tokio::task::JoinHandle;

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

// Services as their own processes.

/// A service run as its own process by the launcher (`staff-directory auth-server …` and so
/// on). Killed when dropped, so no test leaves a server behind.
pub struct Process {
    pub name: &'static str,
    pub address: SocketAddr,
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
}

impl Process {
    /// Starts `staff-directory <args>`, logging JSON, and waits until it says where it listens.
    pub async fn spawn(name: &'static str, args: &[String]) -> Process {
        let mut child = Command::new(env!("CARGO_BIN_EXE_staff-directory"))
            .args(args)
            .env("LOG_FORMAT", "json")
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the launcher starts");
        let log = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().unwrap();
        let sink = log.clone();
        std::thread::spawn(move || {
            use std::io::BufRead as _;
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                sink.lock().unwrap().push(line);
            }
        });
        let deadline = Instant::now() + PATIENCE;
        let address = loop {
            let found = log.lock().unwrap().iter().find_map(|line| {
                let v: Value = serde_json::from_str(line).ok()?;
                v["fields"]["address"].as_str()?.parse::<SocketAddr>().ok()
            });
            if let Some(address) = found {
                break address;
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "the {name} exited ({status}) before listening:\n{}",
                    log.lock().unwrap().join("\n")
                );
            }
            assert!(
                Instant::now() < deadline,
                "the {name} never said where it listens:\n{}",
                log.lock().unwrap().join("\n")
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let process = Process {
            name,
            address,
            child,
            log,
        };
        process.wait_ready().await;
        process
    }

    /// `http://` + its address.
    pub fn base(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Waits until `/readyz` answers 200.
    pub async fn wait_ready(&self) {
        let http = fresh_connections();
        let url = format!("{}/readyz", self.base());
        poll_until(&format!("the {} to be ready", self.name), || {
            let (http, url) = (http.clone(), url.clone());
            async move { http.get(&url).send().await.is_ok_and(|r| r.status() == 200) }
        })
        .await;
    }

    /// Sends SIGTERM: a graceful stop.
    pub fn sigterm(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill -TERM failed");
    }

    /// Sends SIGKILL (`kill -9`) and reaps the process.
    pub fn kill9(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// The exit status, if the process exits within `limit`.
    pub async fn exited_within(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// Its log so far, one JSON object a line.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        drop(self.child.kill());
        drop(self.child.wait());
    }
}

/// The authorization server on `db_url` as its own process, on `bind` (`127.0.0.1:0` for any
/// port), with `issuer` when given and `extra` arguments of `serve`.
pub async fn spawn_auth(db_url: &str, bind: &str, issuer: Option<&str>, extra: &[&str]) -> Process {
    let mut args = strings(&[
        "auth-server",
        "--database-url",
        db_url,
        "serve",
        "--bind",
        bind,
        "--workers",
        "2",
    ]);
    if let Some(issuer) = issuer {
        args.extend(strings(&["--issuer", issuer]));
    }
    args.extend(strings(extra));
    Process::spawn("auth server", &args).await
}

/// The directory API on `db_url` as its own process, trusting `issuer`, with `extra` arguments
/// of `serve`.
pub async fn spawn_api(db_url: &str, bind: &str, issuer: &str, extra: &[&str]) -> Process {
    let mut args = strings(&[
        "directory-api",
        "--database-url",
        db_url,
        "serve",
        "--bind",
        bind,
        "--issuer",
        issuer,
        "--workers",
        "2",
    ]);
    args.extend(strings(extra));
    Process::spawn("directory API", &args).await
}

/// The website as its own process, as the `directory-web` client `web`, on `bind`.
pub async fn spawn_web(
    api_url: &str,
    issuer: &str,
    web: &TestClient,
    bind: &str,
    extra: &[&str],
) -> Process {
    let mut args = strings(&[
        "directory-web",
        "--bind",
        bind,
        "--api-url",
        api_url,
        "--issuer",
        issuer,
        "--client-id",
        &web.id,
        "--client-secret",
        &web.secret,
        "--workers",
        "2",
    ]);
    args.extend(strings(extra));
    Process::spawn("website", &args).await
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| (*s).to_owned()).collect()
}

// Services inside this process, several on one database.

/// A service serving inside the test process. Stopped when dropped.
pub struct InProcess {
    pub base: String,
    pub address: SocketAddr,
    handle: actix_web::dev::ServerHandle,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl InProcess {
    fn new(
        address: SocketAddr,
        handle: actix_web::dev::ServerHandle,
        run: impl Future<Output = std::io::Result<()>> + Send + 'static,
    ) -> InProcess {
        InProcess {
            base: format!("http://{address}"),
            address,
            handle,
            task: Some(tokio::spawn(run)),
        }
    }

    /// Stops it at once (an outage) and waits until it has stopped and closed its pool.
    pub async fn stop(mut self) {
        self.handle.stop(false).await;
        if let Some(task) = self.task.take() {
            task.await.unwrap().unwrap();
        }
    }

    /// An URL under it.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for InProcess {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

/// An authorization server instance on `db_url`, at `bind`, reading time from `clock`. All
/// instances of one deployment share an issuer identifier.
pub async fn auth_instance(
    db_url: &str,
    bind: SocketAddr,
    issuer: Option<&str>,
    clock: Arc<ManualClock>,
) -> InProcess {
    let mut settings = auth_server::config::Settings::new(db_url.to_owned(), bind);
    settings.serve.workers = Some(1);
    settings.serve.issuer = issuer.map(str::to_owned);
    let app = auth_server::startup::Application::build_with_clock(settings, clock)
        .await
        .unwrap();
    InProcess::new(app.address(), app.handle(), app.run_until_stopped())
}

/// A directory API instance on `db_url`, trusting `issuer`, its settings adjusted by
/// `configure`.
pub async fn api_instance(
    db_url: &str,
    issuer: &str,
    clock: Arc<ManualClock>,
    configure: impl FnOnce(&mut directory_api::config::Settings),
) -> InProcess {
    let mut settings = directory_api::config::Settings::new(
        db_url.to_owned(),
        "127.0.0.1:0".parse().unwrap(),
        issuer,
    );
    settings.serve.workers = Some(1);
    configure(&mut settings);
    let app = directory_api::startup::Application::build_with_clock(settings, clock)
        .await
        .unwrap();
    InProcess::new(app.address(), app.handle(), app.run_until_stopped())
}

/// A website instance as the `directory-web` client.
pub async fn web_instance(
    api_url: &str,
    issuer: &str,
    client: &TestClient,
    clock: Arc<ManualClock>,
) -> InProcess {
    web_instance_with(api_url, issuer, client, clock, |_| {}).await
}

/// A website instance whose settings `configure` adjusts first.
pub async fn web_instance_with(
    api_url: &str,
    issuer: &str,
    client: &TestClient,
    clock: Arc<ManualClock>,
    configure: impl FnOnce(&mut directory_web::config::Settings),
) -> InProcess {
    let mut settings = directory_web::config::Settings::new(
        "127.0.0.1:0".parse().unwrap(),
        api_url,
        issuer,
        &client.id,
        &client.secret,
    );
    settings.workers = Some(1);
    configure(&mut settings);
    let app = directory_web::startup::Application::build_with_clock(settings, clock)
        .await
        .unwrap();
    InProcess::new(app.address(), app.handle(), app.run_until_stopped())
}

/// Advances `clocks` by one second every 100 ms of real time until dropped: time runs ten
/// times faster for the services, the same for all. For tests of behaviour that is timed on
/// both sides, such as key rotation (the issuer's activation delay against the API's bounded
/// refetch rate, which counts real time).
pub struct FastTime(JoinHandle<()>);

impl FastTime {
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

// Clients.

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

/// A client in front of several instances of a service, as a load balancer is: it checks each
/// instance's `/readyz` every 100 ms and sends each request to the next ready instance; when a
/// connection is refused (nothing was sent) it tries the next one. Any other error is returned:
/// it would have reached a user.
pub struct RoundRobin {
    backends: Vec<String>,
    ready: Arc<Vec<AtomicBool>>,
    next: AtomicUsize,
    http: reqwest::Client,
    checks: JoinHandle<()>,
}

impl RoundRobin {
    pub fn new(backends: Vec<String>) -> RoundRobin {
        let ready: Arc<Vec<AtomicBool>> =
            Arc::new(backends.iter().map(|_| AtomicBool::new(true)).collect());
        let checks = {
            let (ready, backends) = (ready.clone(), backends.clone());
            let http = reqwest::Client::builder()
                .pool_max_idle_per_host(0)
                .timeout(Duration::from_secs(2))
                .build()
                .unwrap();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_millis(100));
                loop {
                    tick.tick().await;
                    for (i, base) in backends.iter().enumerate() {
                        let up = http
                            .get(format!("{base}/readyz"))
                            .send()
                            .await
                            .is_ok_and(|r| r.status() == 200);
                        ready[i].store(up, Ordering::Relaxed);
                    }
                }
            })
        };
        RoundRobin {
            backends,
            ready,
            next: AtomicUsize::new(0),
            http: fresh_connections(),
            checks,
        }
    }

    /// Sends the request `build` makes for a base URL; the index of the instance that answered,
    /// and its answer.
    pub async fn send(
        &self,
        build: impl Fn(&reqwest::Client, &str) -> reqwest::RequestBuilder,
    ) -> Result<(usize, reqwest::Response), String> {
        let n = self.backends.len();
        let first = self.next.fetch_add(1, Ordering::Relaxed);
        let mut refused = Vec::new();
        for attempt in 0..n * 3 {
            let i = (first + attempt) % n;
            // First the ready instances; then, if none would take it, any.
            if attempt < n && !self.ready[i].load(Ordering::Relaxed) {
                continue;
            }
            match build(&self.http, &self.backends[i]).send().await {
                Ok(response) => return Ok((i, response)),
                Err(e) if e.is_connect() => {
                    refused.push(format!("{}: {e}", self.backends[i]));
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => return Err(format!("{}: {e:?}", self.backends[i])),
            }
        }
        Err(format!("every instance refused: {refused:?}"))
    }
}

impl Drop for RoundRobin {
    fn drop(&mut self) {
        self.checks.abort();
    }
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

// A database that can be cut off.

/// A TCP proxy between the services and PostgreSQL. Cutting it closes its listener (new
/// connections are refused, as by a stopped server) and drops every open connection (as a
/// crashed server or a broken network does); restoring it listens again on the same address.
pub struct CutProxy {
    address: SocketAddr,
    target: SocketAddr,
    accept: Mutex<Option<JoinHandle<()>>>,
    connections: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl CutProxy {
    /// A proxy to the server of the PostgreSQL URL `url`.
    pub async fn start(url: &str) -> CutProxy {
        let (_, authority) = split_authority(url);
        let target = tokio::net::lookup_host(authority)
            .await
            .unwrap()
            .next()
            .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy = CutProxy {
            address: listener.local_addr().unwrap(),
            target,
            accept: Mutex::new(None),
            connections: Arc::new(Mutex::new(Vec::new())),
        };
        proxy.serve(listener);
        proxy
    }

    /// `url` with its host and port replaced by the proxy's.
    pub fn url(&self, url: &str) -> String {
        let (prefix, authority) = split_authority(url);
        url.replacen(
            &format!("{prefix}{authority}"),
            &format!("{prefix}{}", self.address),
            1,
        )
    }

    fn serve(&self, listener: tokio::net::TcpListener) {
        let (target, connections) = (self.target, self.connections.clone());
        *self.accept.lock().unwrap() = Some(tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let piping = tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                        drop(tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await);
                    }
                });
                connections.lock().unwrap().push(piping);
            }
        }));
    }

    /// Cuts the database off: refuses new connections and breaks the open ones.
    pub async fn cut(&self) {
        let accept = self.accept.lock().unwrap().take();
        if let Some(accept) = accept {
            accept.abort();
            drop(accept.await);
        }
        let open: Vec<_> = std::mem::take(&mut *self.connections.lock().unwrap());
        for connection in open {
            connection.abort();
            drop(connection.await);
        }
    }

    /// Lets the database be reached again.
    pub async fn restore(&self) {
        let listener = tokio::net::TcpListener::bind(self.address).await.unwrap();
        self.serve(listener);
    }
}

impl Drop for CutProxy {
    fn drop(&mut self) {
        if let Some(accept) = self.accept.lock().unwrap().take() {
            accept.abort();
        }
        for connection in self.connections.lock().unwrap().drain(..) {
            connection.abort();
        }
    }
}

/// `("postgres://user@", "host:port")` from a URL.
fn split_authority(url: &str) -> (String, String) {
    let (scheme, rest) = url.split_once("://").unwrap();
    let authority_and_user = rest.split('/').next().unwrap();
    let (user, host) = match authority_and_user.rsplit_once('@') {
        Some((user, host)) => (format!("{user}@"), host.to_owned()),
        None => (String::new(), authority_and_user.to_owned()),
    };
    let host = if host.contains(':') {
        host
    } else {
        format!("{host}:5432")
    };
    (format!("{scheme}://{user}"), host)
}
