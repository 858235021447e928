//! `directory-api`: the HTTP server and its commands.

use clap::Parser as _;

fn main() -> anyhow::Result<()> {
    // Limits the allocator's arenas (this may run the program again), then runs.
    service_kit::arenas::main(run())
}

async fn run() -> anyhow::Result<()> {
    let cli = directory_api::cli::Cli::parse();
    service_kit::telemetry::init(cli.log_format, "info");
    directory_api::cli::run(cli).await
}
