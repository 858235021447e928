//! `auth-server`: the HTTP server and its administrative commands.

use clap::Parser as _;

fn main() -> anyhow::Result<()> {
    // Limits the allocator's arenas (this may run the program again), then runs.
    service_kit::arenas::main(run())
}

async fn run() -> anyhow::Result<()> {
    let cli = auth_server::cli::Cli::parse();
    service_kit::telemetry::init(cli.log_format, "info");
    auth_server::cli::run(cli).await
}
