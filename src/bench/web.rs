//! `bench web`: staff pages per second from the website, beside the API's trivial endpoint,
//! measured in the same run, with the number of token requests the site made meanwhile.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::Context as _;
use auth_server::clock::{Clock as _, SystemClock};

use super::load::{Row, Window, closed_loop, percent, print_table, verdict};
use crate::demo;

/// Staff pages per second, as a share of the API's `/healthz` requests per second.
const PAGE_GOAL: f64 = 0.25;

/// Options of `bench web`.
#[derive(Debug, clap::Args)]
pub struct WebBenchArgs {
    /// Measured seconds per scenario (each is warmed up for one second more).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub seconds: u64,

    /// Connections of the load generator.
    #[arg(long, default_value_t = 32)]
    pub concurrency: usize,
}

/// Runs every scenario and prints the table.
pub async fn run(args: WebBenchArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        (1..=4096).contains(&args.concurrency),
        "the concurrency must be between 1 and 4096"
    );
    let dir = tempfile::tempdir().context("cannot create a temporary folder")?;
    let now = SystemClock.now();
    let auth_url = format!("sqlite://{}", dir.path().join("auth.db").display());
    let api_url = format!("sqlite://{}", dir.path().join("directory.db").display());
    let auth_db = auth_server::store::Db::connect(&auth_url).await?;
    auth_db.migrate().await?;
    demo::seed_auth(&auth_db, now).await?;
    auth_db.close().await;
    let directory = directory_api::store::Db::connect(&api_url).await?;
    directory.migrate().await?;
    directory_api::seed::seed_demo(&directory, now).await?;
    directory.close().await;

    let loopback = ([127, 0, 0, 1], 0).into();
    let (issuer, auth) = crate::stack::auth(auth_url, loopback).await?;
    let (api_base, api) = crate::stack::api(api_url, loopback, &issuer).await?;
    let (web_base, web) = crate::stack::web(loopback, &api_base, &issuer).await?;

    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency + 2)
        .timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    println!(
        "website benchmark: {} CPUs, SQLite, 60 demo records, {} connections, {} s per scenario after 1 s warm-up",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        args.concurrency,
        args.seconds
    );
    let n = args.concurrency;
    let cycling = |paths: Vec<String>| {
        let (http, paths, next) = (http.clone(), Arc::new(paths), Arc::new(AtomicUsize::new(0)));
        move || http.get(&paths[next.fetch_add(1, Ordering::Relaxed) % paths.len()])
    };
    eprintln!("measuring the API's GET /healthz…");
    let window = Window::after_warm_up(args.seconds);
    let healthz = closed_loop(
        n,
        None,
        window,
        cycling(vec![format!("{api_base}/healthz")]),
    )
    .await?
    .summarise(window);
    eprintln!("measuring staff pages…");
    let window = Window::after_warm_up(args.seconds);
    let staff_paths = (1..=60)
        .map(|id| format!("{web_base}/staff/{id}"))
        .collect();
    let staff = closed_loop(n, None, window, cycling(staff_paths))
        .await?
        .summarise(window);
    eprintln!("measuring directory pages…");
    let window = Window::after_warm_up(args.seconds);
    let directory_paths = [
        "/",
        "/?page=2",
        "/?q=okafor",
        "/?department=School+of+Chemistry",
        "/?q=machine+learning",
    ]
    .iter()
    .map(|p| format!("{web_base}{p}"))
    .collect();
    let directory = closed_loop(n, None, window, cycling(directory_paths))
        .await?
        .summarise(window);
    let metrics = http
        .get(format!("{web_base}/metrics"))
        .send()
        .await?
        .text()
        .await?;
    let token_requests = metrics
        .lines()
        .find(|l| l.starts_with("web_app_token_requests_total "))
        .and_then(|l| l.split(' ').nth(1))
        .unwrap_or("?")
        .to_owned();

    web.stop().await?;
    api.stop().await?;
    auth.stop().await?;

    let staff_ratio = healthz.share(&staff);
    let staff_verdict = verdict(staff_ratio.map(|r| r >= PAGE_GOAL), staff.errors);
    let directory_ratio = healthz.share(&directory);
    let rows = vec![
        Row::new(
            format!("API GET /healthz, {n} conns (baseline)"),
            healthz,
            "—",
            "—".into(),
        ),
        Row::new(
            format!("web GET /staff/{{id}}, {n} conns"),
            staff,
            &percent(staff_ratio, "of healthz"),
            format!("≥{:.0}%: {staff_verdict}", PAGE_GOAL * 100.0),
        ),
        Row::new(
            format!("web GET / (5 searches), {n} conns"),
            directory,
            &percent(directory_ratio, "of healthz"),
            "—".into(),
        ),
    ];
    print_table(&rows);
    println!(
        "\nToken requests made by the website for its own token during the whole run: {token_requests}"
    );
    Ok(())
}
