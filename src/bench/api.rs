//! The directory API's rows, over a directory of many records (100,000 by default): its
//! trivial endpoint (the baseline), reads by id, searches, and photos (uploads and reads:
//! `super::photos`), measured in the same run.

use super::Target;
use super::load::{Measured, Row, cycling, measure_closed_loop, percent, verdict};

/// Search p99 goal, in milliseconds.
const SEARCH_P99_GOAL_MS: f64 = 25.0;
/// Read by id, as a share of the trivial endpoint's requests per second.
const READ_GOAL: f64 = 0.50;
/// Connections of the latency measurement of search: one per CPU of this machine's class,
/// so the figure is the time of a search, not of a queue.
const LATENCY_CONNECTIONS: usize = 2;

/// The searches measured, in turn: words, names, a phrase with a department, broad prefixes
/// that match a quarter of the directory, a department alone, no match, the first page and a
/// deep page.
pub const SEARCHES: [&str; 10] = [
    "q=machine%20learning",
    "q=okafor",
    "q=fernandez",
    "q=quantum%20optics&department=School%20of%20Mathematics%20and%20Physics",
    "q=lecturer",
    "q=mar",
    "department=School%20of%20Chemistry",
    "q=zzzz",
    "",
    "page=400",
];

/// Every API scenario, in order.
pub async fn measure(target: &Target) -> anyhow::Result<Vec<Row>> {
    let (n, seconds, base) = (target.connections, target.seconds, &target.api);
    let token = Some(target.web_app_token().await?);
    let http = &target.http;

    eprintln!("api: GET /healthz…");
    let baseline = measure_closed_loop(
        n,
        seconds,
        cycling(http, vec![format!("{base}/healthz")], None),
    )
    .await?;
    eprintln!("api: GET /staff/{{id}}…");
    let by_id =
        measure_closed_loop(n, seconds, cycling(http, target.read_urls(), token.clone())).await?;
    let searches: Vec<String> = SEARCHES
        .iter()
        .map(|q| format!("{base}/staff?{q}"))
        .collect();
    eprintln!("api: search latency…");
    let search = measure_closed_loop(
        LATENCY_CONNECTIONS,
        seconds,
        cycling(&latency_client()?, searches.clone(), token.clone()),
    )
    .await?;
    eprintln!("api: search throughput…");
    let search_load = measure_closed_loop(n, seconds, cycling(http, searches, token)).await?;
    let upload = super::photos::upload_row(target).await?;
    let photo_reads = super::photos::api_read_row(target, &baseline).await?;

    let read_ratio = baseline.share(&by_id);
    let read_verdict = verdict(read_ratio.map(|r| r >= READ_GOAL), by_id.errors);
    let p99_ms = |m: &Measured| m.p99.map(|d| d.as_secs_f64() * 1e3);
    let search_verdict = verdict(
        p99_ms(&search).map(|p| p <= SEARCH_P99_GOAL_MS),
        search.errors,
    );
    Ok(vec![
        Row::new(
            format!("API GET /healthz, {n} conns (baseline)"),
            baseline,
            "—",
            "—".into(),
        ),
        Row::new(
            format!("API GET /staff/{{id}}, {n} conns"),
            by_id,
            &percent(read_ratio, "of API healthz"),
            format!("≥{:.0}%: {read_verdict}", READ_GOAL * 100.0),
        ),
        Row::new(
            format!("API search (10 kinds), {LATENCY_CONNECTIONS} conns"),
            search,
            "—",
            format!("p99 ≤{SEARCH_P99_GOAL_MS:.0} ms: {search_verdict}"),
        ),
        Row::new(
            format!("API search (10 kinds), {n} conns"),
            search_load,
            "—",
            "(throughput)".into(),
        ),
        photo_reads,
        upload,
    ])
}

/// A client of its own for the latency row: its connections are opened together when the row
/// starts, so the server's round robin gives each to a different HTTP worker, as for clients
/// of their own. Two of the shared client's idle connections, left from the rows before, may
/// both be on one worker, and the row would then measure how one worker queues them.
fn latency_client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .pool_max_idle_per_host(LATENCY_CONNECTIONS)
        .connect_timeout(std::time::Duration::from_secs(5))
        .timeout(std::time::Duration::from_secs(60))
        .build()?)
}
