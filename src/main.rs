//! `cargo run`: the Staff Directory demo in one process.

use clap::Parser as _;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = staff_directory::launcher::Cli::parse();
    auth_server::telemetry::init(auth_server::telemetry::LogFormat::Text);
    staff_directory::launcher::run(cli).await
}
