//! The website's rows: its trivial endpoint (the baseline), staff pages, directory pages and
//! photos, and how many tokens the site asked for its own use during the whole run.

use std::time::Duration;

use super::Target;
use super::load::{Row, cycling, measure_closed_loop, percent, verdict};

/// Staff pages per second, as a share of the website's `/healthz` requests per second.
const PAGE_GOAL: f64 = 0.25;
/// The lifetime of the website's own (client) token: the auth server's default.
const CLIENT_TOKEN_LIFETIME: Duration = Duration::from_secs(900);

/// Every website scenario, in order.
pub async fn measure(target: &Target) -> anyhow::Result<Vec<Row>> {
    let (n, seconds, base, http) = (
        target.connections,
        target.seconds,
        &target.web,
        &target.http,
    );
    eprintln!("web: GET /healthz…");
    let baseline = measure_closed_loop(
        n,
        seconds,
        cycling(http, vec![format!("{base}/healthz")], None),
    )
    .await?;
    eprintln!("web: staff pages…");
    let staff_pages = (1..=60).map(|id| format!("{base}/staff/{id}")).collect();
    let staff = measure_closed_loop(n, seconds, cycling(http, staff_pages, None)).await?;
    eprintln!("web: directory pages…");
    let directory_pages = [
        "/",
        "/?page=2",
        "/?q=okafor",
        "/?department=School+of+Chemistry",
        "/?q=machine+learning",
    ]
    .iter()
    .map(|p| format!("{base}{p}"))
    .collect();
    let directory = measure_closed_loop(n, seconds, cycling(http, directory_pages, None)).await?;
    let photos = super::photos::web_read_row(target, &baseline).await?;

    let staff_ratio = baseline.share(&staff);
    let staff_verdict = verdict(staff_ratio.map(|r| r >= PAGE_GOAL), staff.errors);
    let directory_ratio = baseline.share(&directory);
    Ok(vec![
        Row::new(
            format!("web GET /healthz, {n} conns (baseline)"),
            baseline,
            "—",
            "—".into(),
        ),
        Row::new(
            format!("web staff page, {n} conns"),
            staff,
            &percent(staff_ratio, "of web healthz"),
            format!("≥{:.0}%: {staff_verdict}", PAGE_GOAL * 100.0),
        ),
        Row::new(
            format!("web directory page (5 kinds), {n} conns"),
            directory,
            &percent(directory_ratio, "of web healthz"),
            "(no goal)".into(),
        ),
        photos,
    ])
}

/// The website's own token requests since it started (its `/metrics` counter), against the
/// allowance of one per token lifetime begun in `running`.
pub async fn token_requests(target: &Target, running: Duration) -> anyhow::Result<Row> {
    let metrics = target
        .http
        .get(format!("{}/metrics", target.web))
        .send()
        .await?
        .error_for_status()?
        .text()
        .await?;
    let made: Option<u64> = metrics
        .lines()
        .find_map(|l| l.strip_prefix("web_app_token_requests_total "))
        .and_then(|v| v.trim().parse().ok());
    let lifetimes = running
        .as_secs()
        .div_ceil(CLIENT_TOKEN_LIFETIME.as_secs())
        .max(1);
    let finding = made.map_or("no counter in /metrics".to_owned(), |m| {
        format!("{m} in {} s of traffic", running.as_secs())
    });
    let verdict = match made {
        Some(m) if m <= lifetimes => "ok",
        Some(_) => "MISSED",
        None => "no data",
    };
    Ok(Row::finding(
        "web app's own token requests, whole run".to_owned(),
        finding,
        format!(
            "≤1 per {} min lifetime: {verdict}",
            CLIENT_TOKEN_LIFETIME.as_secs() / 60
        ),
    ))
}
