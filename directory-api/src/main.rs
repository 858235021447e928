//! `directory-api`: the HTTP server and its commands.

use clap::Parser as _;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = directory_api::cli::Cli::parse();
    service_kit::telemetry::init(cli.log_format, "info");
    directory_api::cli::run(cli).await
}
