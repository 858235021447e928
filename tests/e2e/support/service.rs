//! One in-process handle for any of the three services, and the one function that builds
//! each of them: the only place in the test support that names a service's settings and
//! start-up, so that a change to either is one edit here.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use actix_web::dev::ServerHandle;
use tokio::task::JoinHandle;

/// The services' clocks, named here only, so that the tests do not depend on where a service
/// crate re-exports them from.
pub use service_kit::clock::{Clock, ManualClock, SystemClock};

use super::database::TestDb;
use super::seed::TestClient;

/// The auth server's database handle.
pub type AuthDb = auth_server::store::Db;
/// The directory API's database handle.
pub type ApiDb = directory_api::store::Db;

/// Which of the three services a [`RunningService`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServiceKind {
    /// `auth-server`, the OAuth authorization server.
    Auth,
    /// `directory-api`, the resource server.
    Api,
    /// `directory-web`, the website.
    Web,
    /// `staff-directory lab`, the deliberately naive resource server of the guide.
    Lab,
}

/// A service serving inside the test process, on its own port. Stopped when dropped.
///
/// `db` is whatever the test keeps of its database: a pool of its own ([`AuthDb`] or
/// [`ApiDb`]) when the test reads or writes the database behind the service's back, else `()`.
pub struct RunningService<D = ()> {
    /// Which service it is.
    pub kind: ServiceKind,
    /// `http://` + its address.
    pub base_url: String,
    /// The address it listens on.
    pub address: SocketAddr,
    /// Where `/metrics` is served when `--metrics-bind` was set.
    pub metrics_address: Option<SocketAddr>,
    /// The clock it reads.
    pub clock: Arc<ManualClock>,
    /// The test's own handle on its database.
    pub db: D,
    db_url: Option<String>,
    handle: StopOnDrop,
    task: Mutex<Option<JoinHandle<std::io::Result<()>>>>,
    _database: Option<TestDb>,
}

impl RunningService {
    fn serving(
        kind: ServiceKind,
        address: SocketAddr,
        metrics_address: Option<SocketAddr>,
        handle: ServerHandle,
        run: impl Future<Output = std::io::Result<()>> + Send + 'static,
        clock: Arc<ManualClock>,
    ) -> RunningService {
        RunningService {
            kind,
            base_url: format!("http://{address}"),
            address,
            metrics_address,
            clock,
            db: (),
            db_url: None,
            handle: StopOnDrop(handle),
            task: Mutex::new(Some(tokio::spawn(run))),
            _database: None,
        }
    }

    /// The same service, keeping `db` (a pool of the test's own) and the database `database`
    /// alive as long as it runs.
    pub fn with_db<D>(self, db: D, database: Option<TestDb>) -> RunningService<D> {
        let RunningService {
            kind,
            base_url,
            address,
            metrics_address,
            clock,
            db_url,
            handle,
            task,
            ..
        } = self;
        RunningService {
            kind,
            base_url,
            address,
            metrics_address,
            clock,
            db,
            db_url,
            handle,
            task,
            _database: database,
        }
    }
}

impl<D> RunningService<D> {
    /// A URL under it.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// The URL of its database (the auth server's and the API's).
    pub fn db_url(&self) -> &str {
        self.db_url
            .as_deref()
            .unwrap_or_else(|| panic!("the {:?} service has no database", self.kind))
    }

    /// Stops it gracefully (requests in flight finish) and waits until it has stopped and
    /// closed its pool.
    pub async fn stop_gracefully(&self) {
        self.handle.0.stop(true).await;
        self.wait_stopped().await;
    }

    /// Stops it at once (an outage) and waits until it no longer answers and has closed its
    /// pool.
    pub async fn stop(&self) {
        self.handle.0.stop(false).await;
        self.wait_stopped().await;
    }

    async fn wait_stopped(&self) {
        let task = self.task.lock().unwrap().take();
        if let Some(task) = task {
            task.await.unwrap().unwrap();
        }
    }
}

/// A server handle that stops its server when dropped, so that no test leaves one running.
struct StopOnDrop(ServerHandle);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        // `stop` sends the command at once; the returned future only waits for completion.
        drop(self.0.stop(false));
    }
}

/// An authorization server on `db_url` at `bind`, reading time from `clock`, one worker, its
/// settings adjusted by `configure`.
pub async fn start_auth(
    db_url: &str,
    bind: SocketAddr,
    clock: Arc<ManualClock>,
    configure: impl FnOnce(&mut auth_server::config::Settings),
) -> RunningService {
    let mut settings = auth_server::config::Settings::new(db_url.to_owned(), bind);
    settings.serve.workers = Some(1);
    configure(&mut settings);
    let app = auth_server::startup::Application::build_with_clock(settings, clock.clone())
        .await
        .unwrap();
    let mut service = RunningService::serving(
        ServiceKind::Auth,
        app.address(),
        app.metrics_address(),
        app.handle(),
        app.run_until_stopped(),
        clock,
    );
    service.db_url = Some(db_url.to_owned());
    service
}

/// A directory API on `db_url` trusting `issuer`, one worker, its settings adjusted by
/// `configure`.
pub async fn start_api(
    db_url: &str,
    issuer: &str,
    clock: Arc<ManualClock>,
    configure: impl FnOnce(&mut directory_api::config::Settings),
) -> RunningService {
    let mut settings = directory_api::config::Settings::new(
        db_url.to_owned(),
        "127.0.0.1:0".parse().unwrap(),
        issuer,
    );
    settings.serve.workers = Some(1);
    configure(&mut settings);
    let app = directory_api::startup::Application::build_with_clock(settings, clock.clone())
        .await
        .unwrap();
    let mut service = RunningService::serving(
        ServiceKind::Api,
        app.address(),
        app.metrics_address(),
        app.handle(),
        app.run_until_stopped(),
        clock,
    );
    service.db_url = Some(db_url.to_owned());
    service
}

/// A website against the API at `api_url` and the issuer `issuer`, signing in as `client`,
/// one worker, its settings adjusted by `configure`.
pub async fn start_web(
    api_url: &str,
    issuer: &str,
    client: &TestClient,
    clock: Arc<ManualClock>,
    configure: impl FnOnce(&mut directory_web::config::Settings),
) -> RunningService {
    let mut settings = directory_web::config::Settings::new(
        "127.0.0.1:0".parse().unwrap(),
        api_url,
        issuer,
        &client.id,
        &client.secret,
    );
    settings.serve.workers = Some(1);
    configure(&mut settings);
    let app = directory_web::startup::Application::build_with_clock(settings, clock.clone())
        .await
        .unwrap();
    RunningService::serving(
        ServiceKind::Web,
        app.address(),
        app.metrics_address(),
        app.handle(),
        app.run_until_stopped(),
        clock,
    )
}

/// The lab (`staff-directory lab`) trusting `issuer`'s keys, on 127.0.0.1 port 0, its settings
/// adjusted by `configure`.
pub async fn start_lab(
    issuer: &str,
    clock: Arc<ManualClock>,
    configure: impl FnOnce(&mut staff_directory::lab::Settings),
) -> RunningService {
    let mut settings = staff_directory::lab::Settings::new("127.0.0.1:0".parse().unwrap(), issuer);
    configure(&mut settings);
    let lab = staff_directory::lab::Lab::build_with_clock(settings, clock.clone())
        .await
        .unwrap();
    RunningService::serving(
        ServiceKind::Lab,
        lab.address(),
        None,
        lab.handle(),
        lab.run_until_stopped(),
        clock,
    )
}
