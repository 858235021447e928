//! `auth-server`: the HTTP server and its administrative commands.

use clap::Parser as _;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = auth_server::cli::Cli::parse();
    service_kit::telemetry::init(cli.log_format, "info");
    auth_server::cli::run(cli).await
}
