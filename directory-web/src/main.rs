//! `directory-web`: the website.

use clap::Parser as _;

fn main() -> anyhow::Result<()> {
    // Limits the allocator's arenas (this may run the program again), then runs.
    service_kit::arenas::main(run())
}

async fn run() -> anyhow::Result<()> {
    let cli = directory_web::cli::Cli::parse();
    service_kit::telemetry::init(cli.log_format, "info");
    directory_web::cli::run(cli).await
}
