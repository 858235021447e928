//! `bench api`: the directory API over a directory of many records (100,000 by default):
//! reads by id and searches, beside the API's trivial endpoint, measured in the same run.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use auth_server::clock::{Clock as _, SystemClock};
use directory_api::domain::staff::{NewStaff, NewStaffRequest};
use directory_api::store::staff::Actor;
use secrecy::ExposeSecret as _;

use super::load::{Measured, Row, Window, closed_loop, percent, print_table, verdict};
use crate::demo;

/// Search p99 goal, in milliseconds.
const SEARCH_P99_GOAL_MS: f64 = 25.0;
/// Read by id, as a share of the trivial endpoint's requests per second.
const READ_GOAL: f64 = 0.50;

/// Options of `bench api`.
#[derive(Debug, clap::Args)]
pub struct ApiBenchArgs {
    /// Records in the directory under test.
    #[arg(long, default_value_t = 100_000)]
    pub records: usize,

    /// Measured seconds per scenario (each is warmed up for one second more).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub seconds: u64,

    /// Connections of the load generator.
    #[arg(long, default_value_t = 32)]
    pub concurrency: usize,

    /// Keep the databases in this (new) folder instead of a temporary one, to inspect them.
    #[arg(long)]
    pub keep_in: Option<std::path::PathBuf>,
}

const FIRST: [&str; 24] = [
    "Alice", "Ben", "Chen", "Dara", "Elif", "Femi", "Greta", "Hiro", "Ines", "Jonas", "Kavya",
    "Luca", "Maya", "Nikos", "Olga", "Pablo", "Qing", "Rosa", "Sami", "Tomas", "Uma", "Viktor",
    "Wen", "Yusuf",
];
const LAST: [&str; 24] = [
    "Johnson",
    "Okafor",
    "Raman",
    "Fernández",
    "Nakamura",
    "Schmidt",
    "Kowalski",
    "Haddad",
    "Lindqvist",
    "Osei",
    "Moreau",
    "Ivanova",
    "Barros",
    "Kim",
    "Novak",
    "Larsen",
    "Chaudhry",
    "Mensah",
    "Rossi",
    "Dubois",
    "Varga",
    "Tanaka",
    "Silva",
    "Byrne",
];
const TITLES: [&str; 8] = [
    "Professor",
    "Senior Lecturer",
    "Lecturer",
    "Research Fellow",
    "Teaching Fellow",
    "PhD Researcher",
    "Technician",
    "School Administrator",
];
const DEPARTMENTS: [&str; 8] = [
    "School of Computer Science",
    "School of Chemistry",
    "School of Mathematics and Physics",
    "School of History and Heritage",
    "School of Life Sciences",
    "School of Engineering",
    "Lincoln Business School",
    "School of English and Journalism",
];
const TOPICS: [&str; 32] = [
    "machine learning",
    "climate modelling",
    "cryptography",
    "medieval trade",
    "protein folding",
    "robotics",
    "corporate finance",
    "poetry",
    "catalysis",
    "number theory",
    "soil ecology",
    "urban history",
    "compilers",
    "quantum optics",
    "marketing",
    "journalism ethics",
    "materials science",
    "epidemiology",
    "game theory",
    "heritage conservation",
    "control systems",
    "computational linguistics",
    "organic synthesis",
    "astrophysics",
    "supply chains",
    "oral history",
    "distributed systems",
    "marine biology",
    "fluid dynamics",
    "accounting",
    "creative writing",
    "human-computer interaction",
];

/// A synthetic member of staff, the same for the same `i`.
fn synthetic(i: usize) -> anyhow::Result<NewStaff> {
    let first = FIRST[i % FIRST.len()];
    let last = LAST[(i / FIRST.len()) % LAST.len()];
    let topics: Vec<&str> = (0..3)
        .map(|k| TOPICS[(i * 7 + k * 11) % TOPICS.len()])
        .collect();
    let request: NewStaffRequest = serde_json::from_value(serde_json::json!({
        "username": format!("s{i:06}"),
        "display_name": format!("{first} {last}"),
        "job_title": TITLES[i % TITLES.len()],
        "department": DEPARTMENTS[(i / 3) % DEPARTMENTS.len()],
        "email": format!("s{i:06}@example.edu"),
        "phone": format!("+1 555 01{:02} {:04}", i % 100, i % 10_000),
        "office": format!("Building {}, room {}", i % 12, i % 500),
        "bio": format!("{first} {last} works on {} and teaches an undergraduate module.", topics[0]),
        "research_interests": topics.join(", "),
    }))?;
    NewStaff::parse(&request).map_err(|e| anyhow::anyhow!("synthetic record {i} is invalid: {e:?}"))
}

/// Runs every scenario and prints the table.
pub async fn run(args: ApiBenchArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        (1..=4096).contains(&args.concurrency),
        "the concurrency must be between 1 and 4096"
    );
    anyhow::ensure!(args.records >= 1, "at least one record");
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let dir = tempfile::tempdir().context("cannot create a temporary folder")?;
    let folder = args
        .keep_in
        .clone()
        .unwrap_or_else(|| dir.path().to_owned());
    std::fs::create_dir_all(&folder)?;
    let now = SystemClock.now();

    let auth_url = format!("sqlite://{}", folder.join("auth.db").display());
    let auth_db = auth_server::store::Db::connect(&auth_url).await?;
    auth_db.migrate().await?;
    let client = auth_server::oauth::client_auth::ClientId::parse("bench-web")?;
    let secret =
        auth_server::admin::create_client(&auth_db, &client, &demo::web_policy()?, now).await?;
    auth_db.close().await;

    let api_url = format!("sqlite://{}", folder.join("directory.db").display());
    let api_db = directory_api::store::Db::connect(&api_url).await?;
    api_db.migrate().await?;
    let started = Instant::now();
    let actor = Actor {
        subject: "bench",
        client_id: "bench",
        kind: "seed",
    };
    let records = (0..args.records)
        .map(synthetic)
        .collect::<anyhow::Result<Vec<_>>>()?;
    let created = api_db.create_staff_many(&records, actor, now).await?;
    anyhow::ensure!(
        created == args.records,
        "only {created} of {} records were created",
        args.records
    );
    eprintln!(
        "seeded {} records in {:.1} s",
        args.records,
        started.elapsed().as_secs_f64()
    );
    api_db.close().await;

    let (issuer, auth) = crate::stack::auth(auth_url, ([127, 0, 0, 1], 0).into()).await?;
    let (base, api) = crate::stack::api(api_url, ([127, 0, 0, 1], 0).into(), &issuer).await?;

    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency + 2)
        .timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let token: serde_json::Value = http
        .post(format!("{issuer}/oauth/token"))
        .basic_auth("bench-web", Some(secret.expose_secret()))
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

    println!(
        "directory API benchmark: {cpus} CPUs, SQLite, {} records, {} connections, {} s per scenario after 1 s warm-up",
        args.records, args.concurrency, args.seconds
    );
    let rows = measure(&args, &http, &base, &token).await;

    api.stop().await?;
    auth.stop().await?;
    drop(dir);
    print_table(&rows?);
    Ok(())
}

/// A request factory cycling through `paths` with the bearer `token`.
fn cycling(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    paths: Vec<String>,
) -> impl Fn() -> reqwest::RequestBuilder + Clone + Send + 'static {
    let (http, base, token) = (http.clone(), base.to_owned(), token.to_owned());
    let paths = Arc::new(paths);
    let next = Arc::new(AtomicUsize::new(0));
    move || {
        let i = next.fetch_add(1, Ordering::Relaxed) % paths.len();
        http.get(format!("{base}{}", paths[i])).bearer_auth(&token)
    }
}

/// Connections of the latency measurement of search: one per CPU of this machine's class,
/// so the figure is the time of a search, not of a queue.
const LATENCY_CONNECTIONS: usize = 2;

async fn measure(
    args: &ApiBenchArgs,
    http: &reqwest::Client,
    base: &str,
    token: &str,
) -> anyhow::Result<Vec<Row>> {
    let n = args.concurrency;
    let run = |connections: usize, paths: Vec<String>| {
        let make = cycling(http, base, token, paths);
        let window = Window::after_warm_up(args.seconds);
        async move {
            Ok::<Measured, anyhow::Error>(
                closed_loop(connections, None, window, make)
                    .await?
                    .summarise(window),
            )
        }
    };

    eprintln!("measuring GET /healthz…");
    let healthz = {
        let (http, url) = (http.clone(), format!("{base}/healthz"));
        let window = Window::after_warm_up(args.seconds);
        closed_loop(n, None, window, move || http.get(&url))
            .await?
            .summarise(window)
    };
    eprintln!("measuring GET /staff/{{id}}…");
    let ids: Vec<String> = (0..1000)
        .map(|k| format!("/staff/{}", 1 + (k * 7919) % args.records))
        .collect();
    let by_id = run(n, ids).await?;
    let searches: Vec<String> = [
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
    ]
    .iter()
    .map(|q| format!("/staff?{q}"))
    .collect();
    eprintln!("measuring search latency…");
    let search = run(LATENCY_CONNECTIONS, searches.clone()).await?;
    eprintln!("measuring search throughput…");
    let search_load = run(n, searches).await?;

    let read_ratio = healthz.share(&by_id);
    let read_verdict = verdict(read_ratio.map(|r| r >= READ_GOAL), by_id.errors);
    let p99_ms = |m: &Measured| m.p99.map(|d| d.as_secs_f64() * 1e3);
    let search_verdict = verdict(
        p99_ms(&search).map(|p| p <= SEARCH_P99_GOAL_MS),
        search.errors,
    );
    Ok(vec![
        Row::new(
            format!("GET /healthz, {n} conns (baseline)"),
            healthz,
            "—",
            "—".into(),
        ),
        Row::new(
            format!("GET /staff/{{id}}, {n} conns"),
            by_id,
            &percent(read_ratio, "of healthz"),
            format!("≥{:.0}%: {read_verdict}", READ_GOAL * 100.0),
        ),
        Row::new(
            format!("GET /staff?… 10 searches, {LATENCY_CONNECTIONS} conns"),
            search,
            "—",
            format!("p99 ≤{SEARCH_P99_GOAL_MS:.0} ms: {search_verdict}"),
        ),
        Row::new(
            format!("GET /staff?… 10 searches, {n} conns"),
            search_load,
            "—",
            "(throughput)".into(),
        ),
    ])
}
