//! Starts the demo: migrates and seeds `./data` on first start, serves until Ctrl-C.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use auth_server::store::Db;
use clap::{Parser, Subcommand};
use service_kit::clock::{Clock as _, SystemClock};
use tokio::signal::unix::{SignalKind, signal};

use crate::{demo, stack};

/// The Staff Directory demo: every service in one process, on SQLite under the data folder.
#[derive(Debug, Parser)]
#[command(name = "staff-directory", version, about)]
pub struct Cli {
    /// Folder of the demo's SQLite databases (created on first start).
    #[arg(long, env = "DEMO_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,

    /// Address of the authorization server.
    #[arg(long, env = "AUTH_BIND", default_value = auth_server::config::DEFAULT_BIND)]
    pub auth_bind: SocketAddr,

    /// Address of the directory API.
    #[arg(long, env = "API_BIND", default_value = directory_api::config::DEFAULT_BIND)]
    pub api_bind: SocketAddr,

    /// Address of the website.
    #[arg(long, env = "WEB_BIND", default_value = directory_web::config::DEFAULT_BIND)]
    pub web_bind: SocketAddr,

    /// Something other than running the demo.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Commands besides the demo itself.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Import the HR export into the running directory, as the HR job (see `hr-sync --help`).
    HrSync(crate::hr_sync::HrSyncArgs),
    /// Measure the services and print one table with every goal (build with --release).
    Bench(crate::bench::BenchArgs),
    /// Run the authorization server alone, or one of its admin commands: the same
    /// arguments as the `auth-server` binary (`staff-directory auth-server serve --help`).
    AuthServer(auth_server::cli::Cli),
    /// Run the directory API alone: the same arguments as the `directory-api` binary.
    DirectoryApi(directory_api::cli::Cli),
    /// Run the website alone: the same arguments as the `directory-web` binary.
    DirectoryWeb(directory_web::cli::Cli),
    /// Beside a running demo, start the lab: a deliberately naive resource server for
    /// teaching (it checks only a token's signature) on its own in-memory copy of the
    /// directory, loopback only. Never deploy it. See docs/5-attacks-you-can-try.md.
    Lab(crate::lab::LabArgs),
}

/// Runs the demo until Ctrl-C, or another command.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Some(Command::Bench(args)) => return crate::bench::run(args).await,
        Some(Command::AuthServer(cli)) => return auth_server::cli::run(cli).await,
        Some(Command::DirectoryApi(cli)) => return directory_api::cli::run(cli).await,
        Some(Command::DirectoryWeb(cli)) => return directory_web::cli::run(cli).await,
        Some(Command::Lab(args)) => return crate::lab::run(args).await,
        Some(Command::HrSync(args)) => {
            let summary = crate::hr_sync::run(&args).await?;
            println!(
                "{}{summary}",
                if args.dry_run {
                    "dry run, nothing changed: "
                } else {
                    ""
                }
            );
            anyhow::ensure!(summary.failed == 0, "{} change(s) failed", summary.failed);
            return Ok(());
        }
        None => {}
    }
    std::fs::create_dir_all(&cli.data_dir)
        .with_context(|| format!("cannot create the data folder {}", cli.data_dir.display()))?;
    let auth_url = format!("sqlite://{}", cli.data_dir.join("auth.db").display());
    let api_url = format!("sqlite://{}", cli.data_dir.join("directory.db").display());
    let now = SystemClock.now();

    let db = Db::connect(&auth_url).await?;
    db.migrate().await?;
    demo::seed_auth_for(&db, cli.web_bind, now).await?;
    db.close().await;
    let directory = directory_api::store::Db::connect(&api_url).await?;
    directory.migrate().await?;
    directory_api::seed::seed_demo(&directory, now).await?;
    directory.close().await;

    // Listen for Ctrl-C and SIGTERM before any server starts: a signal that arrives while they
    // start (or right after the banner) must still stop all three, not only those whose own
    // handlers happened to be installed already.
    let mut interrupt = signal(SignalKind::interrupt()).context("cannot listen for Ctrl-C")?;
    let mut terminate = signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?;
    // The auth server first: the API fetches its keys as it starts.
    let (issuer, auth) = stack::auth(auth_url, cli.auth_bind).await?;
    let (api_url, api) = stack::api(api_url, cli.api_bind, &issuer).await?;
    let (web_url, web) = stack::web(cli.web_bind, &api_url, &issuer).await?;
    let handles = [web.handle(), api.handle(), auth.handle()];
    let stopper = tokio::spawn(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
        // The website first, so no page is left waiting on a stopped API.
        for handle in handles {
            handle.stop(true).await;
        }
    });
    print_banner(&web_url, &issuer, &api_url);
    let (web_result, api_result, auth_result) =
        tokio::join!(web.stopped(), api.stopped(), auth.stopped());
    stopper.abort();
    web_result?;
    api_result?;
    auth_result?;
    println!("stopped");
    Ok(())
}

fn print_banner(web: &str, auth_issuer: &str, api: &str) {
    println!();
    println!("Staff Directory demo is running. Press Ctrl-C to stop.");
    println!();
    println!("  website       {web}   <- open this in a browser");
    println!("  directory API {api}   (OpenAPI: {api}/openapi.json)");
    println!(
        "  auth server   {auth_issuer}   (metadata: {auth_issuer}/.well-known/oauth-authorization-server)"
    );
    println!();
    println!("Demo credentials (demo only; real deployments generate their own):");
    println!(
        "  web app client   {}  /  {}",
        demo::WEB_CLIENT_ID,
        demo::WEB_CLIENT_SECRET
    );
    println!(
        "  HR import client {}  /  {}",
        demo::HR_CLIENT_ID,
        demo::HR_CLIENT_SECRET
    );
    for demo::DemoUser {
        username: user,
        password,
        who,
    } in demo::DEMO_USERS
    {
        println!("  staff user       {user}  /  {password}   ({who})");
    }
    println!();
}
