//! How long `cargo run` takes, once built, from starting the demo to its banner (all three
//! services listening, the API holding the auth server's keys): first on an empty data folder
//! (migrations and seeding included), then again on the same folder, as a restart.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use tokio::io::{AsyncBufReadExt as _, BufReader};

use super::load::Row;

/// The time from start to ready allowed to the demo.
const READY_GOAL: Duration = Duration::from_secs(1);
/// The banner's first line, printed once every service listens.
const BANNER: &str = "Staff Directory demo is running";

/// A first start and a restart of the demo, each a row.
pub async fn measure(folder: &Path) -> anyhow::Result<Vec<Row>> {
    let data = folder.join("demo-data");
    let mut rows = Vec::new();
    for label in ["demo first start → ready (seeds)", "demo restart → ready"] {
        eprintln!("ready: {label}…");
        let took = start_to_banner(&data).await?;
        let verdict = if took <= READY_GOAL { "ok" } else { "MISSED" };
        rows.push(Row::timed(
            label.to_owned(),
            took,
            format!("≤{} s: {verdict}", READY_GOAL.as_secs()),
        ));
    }
    Ok(rows)
}

/// Starts the demo on `data` (on free ports), waits for the banner, stops it with SIGTERM.
async fn start_to_banner(data: &Path) -> anyhow::Result<Duration> {
    let exe = std::env::current_exe().context("cannot find this program's own path")?;
    let started = Instant::now();
    let mut child = tokio::process::Command::new(exe)
        .arg("--data-dir")
        .arg(data)
        .args(["--auth-bind", "127.0.0.1:0"])
        .args(["--api-bind", "127.0.0.1:0"])
        .args(["--web-bind", "127.0.0.1:0"])
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .context("cannot start the demo")?;
    let stdout = child
        .stdout
        .take()
        .context("the demo's output is not piped")?;
    let mut lines = BufReader::new(stdout).lines();
    let took = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await? {
            if line.contains(BANNER) {
                return anyhow::Ok(started.elapsed());
            }
        }
        anyhow::bail!("the demo exited without printing its banner")
    })
    .await
    .context("the demo printed no banner within 60 s")??;
    super::procs::sigterm(&child, "demo")?;
    // Drain the rest of the output so the demo never blocks on a full pipe while stopping.
    while lines.next_line().await?.is_some() {}
    super::procs::stopped(&mut child, "demo").await?;
    Ok(took)
}
