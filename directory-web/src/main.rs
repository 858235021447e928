//! `directory-web`: the website.

use clap::Parser as _;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = directory_web::cli::Cli::parse();
    service_kit::telemetry::init(cli.log_format, "info");
    directory_web::cli::run(cli).await
}
