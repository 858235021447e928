//! `auth-server`: the HTTP server and its administrative commands.

use clap::Parser as _;

fn main() -> anyhow::Result<()> {
    // First, before the runtime starts any thread: this may run the program again.
    service_kit::arenas::limit();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run())
}

async fn run() -> anyhow::Result<()> {
    let cli = auth_server::cli::Cli::parse();
    service_kit::telemetry::init(cli.log_format, "info");
    auth_server::cli::run(cli).await
}
