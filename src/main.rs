//! `cargo run`: the Staff Directory demo in one process.

use clap::Parser as _;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = staff_directory::launcher::Cli::parse();
    // Benchmarks log warnings only: a line per request would be measured too.
    let level = if cli.command.is_some() {
        "warn"
    } else {
        "info"
    };
    auth_server::telemetry::init(auth_server::telemetry::LogFormat::Text, level);
    staff_directory::launcher::run(cli).await
}
