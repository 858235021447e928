//! `bench hr-sync`: rows per second of the HR import of a 10,000-row export into a fresh
//! directory, and of the re-run that changes nothing, beside the API's raw `POST /staff` rate
//! at the same concurrency, measured in the same run.

use std::io::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use secrecy::{ExposeSecret as _, SecretString};
use service_kit::clock::{Clock as _, SystemClock};

use super::load::{Measured, Row, Window, closed_loop, print_table};
use crate::demo;
use crate::hr_sync::{self, HrSyncArgs};

/// Options of `bench hr-sync`.
#[derive(Debug, clap::Args)]
pub struct HrSyncBenchArgs {
    /// Rows in the export.
    #[arg(long, default_value_t = 10_000)]
    pub rows: usize,

    /// Changes the import sends at once (and connections of the raw baseline).
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,

    /// Seconds of the raw `POST /staff` baseline.
    #[arg(long, default_value_t = 5)]
    pub seconds: u64,
}

/// Runs the import twice and the baseline once, and prints the table.
pub async fn run(args: HrSyncBenchArgs) -> anyhow::Result<()> {
    let dir = tempfile::tempdir().context("cannot create a temporary folder")?;
    let now = SystemClock.now();
    let auth_url = format!("sqlite://{}", dir.path().join("auth.db").display());
    let auth_db = auth_server::store::Db::connect(&auth_url).await?;
    auth_db.migrate().await?;
    let id = auth_server::oauth::client_auth::ClientId::parse("bench-hr")?;
    let secret = auth_server::admin::create_client(&auth_db, &id, &demo::hr_policy()?, now).await?;
    auth_db.close().await;
    let api_url = format!("sqlite://{}", dir.path().join("directory.db").display());

    let (issuer, auth) = crate::stack::auth(auth_url, ([127, 0, 0, 1], 0).into()).await?;
    let (base, api) = crate::stack::api(api_url, ([127, 0, 0, 1], 0).into(), &issuer).await?;

    let mut file = tempfile::NamedTempFile::new()?;
    writeln!(file, "username,display_name,job_title,department,email")?;
    for i in 0..args.rows {
        writeln!(
            file,
            "p{i:06},Person {i},Lecturer,School of Engineering,p{i:06}@example.edu"
        )?;
    }
    file.flush()?;
    let sync_args = HrSyncArgs {
        file: file.path().to_owned(),
        dry_run: false,
        force: false,
        max_retire_share: 0.10,
        client_id: "bench-hr".into(),
        client_secret: SecretString::from(secret.expose_secret().to_owned()),
        token_url: format!("{issuer}/oauth/token"),
        api_url: base.clone(),
        concurrency: args.concurrency,
    };
    let rows = measure(&args, &sync_args, &base, &issuer, secret.expose_secret()).await;

    api.stop().await?;
    auth.stop().await?;
    println!(
        "HR import benchmark: {} CPUs, SQLite, {} rows, {} changes at once",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        args.rows,
        args.concurrency
    );
    print_table(&rows?);
    Ok(())
}

fn as_measured(rate: f64, errors: u64) -> Measured {
    Measured {
        rate,
        p50: None,
        p99: None,
        errors,
        first_error: None,
    }
}

async fn measure(
    args: &HrSyncBenchArgs,
    sync_args: &HrSyncArgs,
    base: &str,
    issuer: &str,
    secret: &str,
) -> anyhow::Result<Vec<Row>> {
    eprintln!("importing {} rows…", args.rows);
    let started = Instant::now();
    let first = hr_sync::run(sync_args).await?;
    let import_rate = args.rows as f64 / started.elapsed().as_secs_f64();
    anyhow::ensure!(
        first.created == args.rows,
        "the import created {} of {} rows",
        first.created,
        args.rows
    );
    eprintln!("re-running the same export…");
    let started = Instant::now();
    let second = hr_sync::run(sync_args).await?;
    let rerun_rate = args.rows as f64 / started.elapsed().as_secs_f64();
    anyhow::ensure!(
        second.unchanged == args.rows,
        "the re-run changed something: {second}"
    );

    eprintln!("measuring raw POST /staff…");
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()?;
    let token: serde_json::Value = http
        .post(format!("{issuer}/oauth/token"))
        .basic_auth("bench-hr", Some(secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let token = token["access_token"]
        .as_str()
        .context("no access token")?
        .to_owned();
    let next = Arc::new(AtomicUsize::new(0));
    let url = format!("{base}/staff");
    let make = move || {
        let i = next.fetch_add(1, Ordering::Relaxed);
        http.post(&url).bearer_auth(&token).json(&serde_json::json!({
            "username": format!("raw{i:07}"), "display_name": format!("Raw {i}"), "job_title": "Lecturer",
            "department": "School of Engineering", "email": format!("raw{i:07}@example.edu")
        }))
    };
    let window = Window::after_warm_up(args.seconds);
    let raw = closed_loop(args.concurrency, None, window, make)
        .await?
        .summarise(window);
    let share = |rate: f64| {
        if raw.rate > 0.0 {
            format!("{:.0}% of raw POST", rate / raw.rate * 100.0)
        } else {
            "—".to_owned()
        }
    };
    let (import_share, rerun_share) = (share(import_rate), share(rerun_rate));
    Ok(vec![
        Row::new(
            format!("raw POST /staff, {} conns (baseline)", args.concurrency),
            raw,
            "—",
            "—".into(),
        ),
        Row::new(
            format!("hr-sync import, {} rows created", args.rows),
            as_measured(import_rate, first.failed as u64),
            &import_share,
            "rows/s".into(),
        ),
        Row::new(
            format!("hr-sync re-run, {} rows unchanged", args.rows),
            as_measured(rerun_rate, second.failed as u64),
            &rerun_share,
            "rows/s".into(),
        ),
    ])
}
