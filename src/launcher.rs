//! Starts the demo: migrates and seeds `./data` on first start, serves until Ctrl-C.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use auth_server::clock::{Clock as _, SystemClock};
use auth_server::store::Db;
use clap::{Parser, Subcommand};

use crate::demo;

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

    /// Something other than running the demo.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Commands besides the demo itself.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Measure the services (build with --release).
    #[command(subcommand)]
    Bench(BenchCommand),
}

/// What to measure.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// The authorization server: token throughput and sign-ins against their baselines.
    Auth(crate::bench::BenchArgs),
}

/// Runs the demo until Ctrl-C, or another command.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    if let Some(Command::Bench(BenchCommand::Auth(args))) = cli.command {
        return crate::bench::run(args).await;
    }
    std::fs::create_dir_all(&cli.data_dir)
        .with_context(|| format!("cannot create the data folder {}", cli.data_dir.display()))?;
    let auth_url = format!("sqlite://{}", cli.data_dir.join("auth.db").display());

    let db = Db::connect(&auth_url).await?;
    db.migrate().await?;
    demo::seed_auth(&db, SystemClock.now()).await?;
    db.close().await;

    let auth = auth_server::startup::Application::build(auth_server::config::Settings::new(
        auth_url,
        cli.auth_bind,
    ))
    .await?;
    print_banner(auth.issuer());
    auth.run_until_stopped().await?;
    println!("stopped");
    Ok(())
}

fn print_banner(auth_issuer: &str) {
    println!();
    println!("Staff Directory demo is running. Press Ctrl-C to stop.");
    println!();
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
    for (user, password, who) in demo::DEMO_USERS {
        println!("  staff user       {user}  /  {password}   ({who})");
    }
    println!();
}
