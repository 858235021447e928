//! `cargo run`: the Staff Directory demo in one process.

use clap::Parser as _;

fn main() -> anyhow::Result<()> {
    // Limits the allocator's arenas (this may run the program again), then runs.
    service_kit::arenas::main(run())
}

async fn run() -> anyhow::Result<()> {
    use staff_directory::launcher::Command;
    let cli = staff_directory::launcher::Cli::parse();
    // A service run alone logs as its own binary would; benchmarks log warnings only (a line
    // per request would be measured too).
    let (format, level) = match &cli.command {
        Some(Command::AuthServer(c)) => (c.log_format, "info"),
        Some(Command::DirectoryApi(c)) => (c.log_format, "info"),
        Some(Command::DirectoryWeb(s)) => (s.log_format, "info"),
        Some(_) => (service_kit::telemetry::LogFormat::Text, "warn"),
        None => (service_kit::telemetry::LogFormat::Text, "info"),
    };
    service_kit::telemetry::init(format, level);
    staff_directory::launcher::run(cli).await
}
