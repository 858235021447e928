//! Services inside the test process, several instances on one database, and a clock that runs
//! faster for them.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use auth_server::clock::ManualClock;
use tokio::task::JoinHandle;

use crate::harness::TestClient;

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
    settings.serve.workers = Some(1);
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
