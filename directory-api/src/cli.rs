//! The command line of the `directory-api` binary: its global flags, `serve`, `migrate` and
//! `seed-demo`.

use clap::{Parser, Subcommand};

use crate::config::{DEFAULT_DATABASE_URL, ServeArgs, Settings};
use crate::startup::Application;
use crate::store::Db;
use service_kit::clock::{Clock as _, SystemClock};

/// The Staff Directory API: staff records behind OAuth 2.0 bearer tokens.
#[derive(Debug, Parser)]
#[command(name = "directory-api", version, about)]
pub struct Cli {
    /// Database URL: `sqlite://PATH` (created on first start) or `postgres://…`.
    #[arg(long, env = "API_DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true)]
    pub database_url: service_kit::db::DatabaseUrl,

    /// A file holding the database URL (for a URL with a password, from a mounted secret).
    #[arg(
        long,
        env = "API_DATABASE_URL_FILE",
        global = true,
        conflicts_with = "database_url"
    )]
    pub database_url_file: Option<std::path::PathBuf>,

    /// Log format.
    #[arg(
        long,
        env = "LOG_FORMAT",
        value_enum,
        default_value = "text",
        global = true
    )]
    pub log_format: service_kit::telemetry::LogFormat,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// The database URL: from `--database-url-file` when given, else `--database-url`.
    pub fn database_url(&self) -> anyhow::Result<service_kit::db::DatabaseUrl> {
        service_kit::db::url_from(&self.database_url, self.database_url_file.as_deref())
    }
}

/// The commands of the binary.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server (migrates the database first).
    Serve(ServeArgs),
    /// Apply database migrations and exit.
    Migrate,
    /// Load the fictional demo staff into an empty directory.
    SeedDemo,
}

/// Runs a command.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let database_url = cli.database_url()?;
    match cli.command {
        Command::Serve(serve) => {
            let app = Application::build(Settings {
                database_url,
                serve,
            })
            .await?;
            tracing::info!(address = %app.address(), "directory API listening");
            app.run_until_stopped().await?;
        }
        Command::Migrate => {
            let db = Db::connect(&database_url).await?;
            db.migrate().await?;
            db.close().await;
            println!("migrations applied");
        }
        Command::SeedDemo => {
            let db = Db::connect(&database_url).await?;
            db.migrate().await?;
            let added = crate::seed::seed_demo(&db, SystemClock.now()).await?;
            db.close().await;
            println!("{added} demo records added");
        }
    }
    Ok(())
}
