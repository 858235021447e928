//! The command line of the `directory-web` binary: its global flags and the server's.

use clap::Parser;

use crate::config::{ServeArgs, Settings};
use crate::startup::Application;

/// The Staff Directory website.
#[derive(Debug, Clone, Parser)]
#[command(name = "directory-web", version, about)]
pub struct Cli {
    /// Log format.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: service_kit::telemetry::LogFormat,

    /// The server's settings.
    #[command(flatten)]
    pub serve: ServeArgs,
}

/// Runs the website until it is stopped.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let app = Application::build(Settings { serve: cli.serve }).await?;
    tracing::info!(address = %app.address(), "website listening");
    app.run_until_stopped().await?;
    Ok(())
}
