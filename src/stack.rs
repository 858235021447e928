//! Starting the services inside this process, as the demo launcher and the benchmarks do: each
//! on its own address (port 0 for any free one), served by a task of the current runtime.

use std::net::SocketAddr;

use actix_web::dev::ServerHandle;
use anyhow::Context as _;
use tokio::task::JoinHandle;

/// A service serving in this process.
#[derive(Debug)]
pub struct Running {
    name: &'static str,
    handle: ServerHandle,
    task: JoinHandle<std::io::Result<()>>,
}

impl Running {
    /// Waits until the service stops by itself (on Ctrl-C or SIGTERM).
    pub async fn stopped(self) -> anyhow::Result<()> {
        self.task
            .await
            .with_context(|| format!("the {} task failed", self.name))?
            .with_context(|| format!("the {} failed", self.name))
    }

    /// A handle that stops the service from elsewhere.
    pub fn handle(&self) -> ServerHandle {
        self.handle.clone()
    }

    /// Stops the service gracefully and waits for it.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.handle.stop(true).await;
        self.stopped().await
    }
}

/// Starts the authorization server on the database at `db_url`: its issuer, and the server.
pub async fn auth(db_url: String, bind: SocketAddr) -> anyhow::Result<(String, Running)> {
    let app =
        auth_server::startup::Application::build(auth_server::config::Settings::new(db_url, bind))
            .await?;
    let issuer = app.issuer().to_owned();
    let running = Running {
        name: "auth server",
        handle: app.handle(),
        task: tokio::spawn(app.run_until_stopped()),
    };
    Ok((issuer, running))
}

/// Starts the directory API, trusting `issuer`: its base URL, and the server.
pub async fn api(
    db_url: String,
    bind: SocketAddr,
    issuer: &str,
) -> anyhow::Result<(String, Running)> {
    let app = directory_api::startup::Application::build(directory_api::config::Settings::new(
        db_url,
        bind,
        issuer.to_owned(),
    ))
    .await?;
    let base = format!("http://{}", app.address());
    let running = Running {
        name: "directory API",
        handle: app.handle(),
        task: tokio::spawn(app.run_until_stopped()),
    };
    Ok((base, running))
}

/// Starts the website with the demo's client credentials: its base URL, and the server.
pub async fn web(bind: SocketAddr, api: &str, issuer: &str) -> anyhow::Result<(String, Running)> {
    let app = directory_web::startup::Application::build(directory_web::config::Settings::new(
        bind,
        api,
        issuer,
        crate::demo::WEB_CLIENT_ID,
        crate::demo::WEB_CLIENT_SECRET,
    ))
    .await?;
    let base = format!("http://{}", app.address());
    let running = Running {
        name: "website",
        handle: app.handle(),
        task: tokio::spawn(app.run_until_stopped()),
    };
    Ok((base, running))
}
