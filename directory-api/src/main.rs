//! `directory-api`: the HTTP server and its commands.

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
    let cli = directory_api::cli::Cli::parse();
    service_kit::telemetry::init(cli.log_format, "info");
    directory_api::cli::run(cli).await
}
