//! `cargo run --release -- bench`: starts the three services as separate processes on fresh
//! databases (SQLite, or PostgreSQL when given a URL), drives them with a closed-loop load
//! generator and prints one table: each scenario's requests per second, p50 and p99, errors,
//! and its ratio to a baseline measured in the same run, beside the goal it must meet.
//!
//! Every scenario is warmed up before its measured window; only requests that complete inside
//! the window count. A goal that is missed is a finding, not a failure: the command still
//! succeeds, and says MISSED.

pub mod api;
pub mod auth;
mod burst;
mod code_flow;
mod fixture;
pub mod hr_sync;
mod load;
mod photos;
mod procs;
mod ready;
mod soak;
pub mod web;

use std::time::{Duration, Instant};

use anyhow::Context as _;
use secrecy::ExposeSecret as _;

use self::fixture::{Databases, Fixture};
use self::load::{Row, print_table};
use self::procs::{Service, free_port};
use crate::demo;

/// Options of `bench`.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BenchArgs {
    /// A single benchmark instead of the whole table.
    #[command(subcommand)]
    pub only: Option<BenchCommand>,

    /// Measured seconds per scenario (each is warmed up for one second more).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub seconds: u64,

    /// Connections of the load generator, each sending its next request when the previous
    /// one is answered.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub concurrency: u64,

    /// Staff records in the directory under test (besides the 60 demo staff).
    #[arg(long, default_value_t = 100_000)]
    pub records: usize,

    /// Seconds of the mixed soak, during which each service's resident memory is sampled.
    #[arg(long, default_value_t = 180, value_parser = clap::value_parser!(u64).range(10..=86_400))]
    pub soak_seconds: u64,

    /// Measure on PostgreSQL: the URL of any database of the server; the benchmark creates
    /// two new databases there and drops them at the end. Default: fresh SQLite files.
    #[arg(long, env = "BENCH_DATABASE_URL")]
    pub database_url: Option<String>,

    /// Password hashes the auth server computes at once (its `--password-hash-concurrency`;
    /// default: the server's own, one per CPU).
    #[arg(long)]
    pub password_hash_concurrency: Option<usize>,

    /// Parts of the table to run (default: all).
    #[arg(long, value_enum, value_delimiter = ',')]
    pub parts: Vec<Part>,
}

/// Benchmarks outside the table.
#[derive(Debug, clap::Subcommand)]
pub enum BenchCommand {
    /// The HR import: rows per second of a 10,000-row export.
    HrSync(hr_sync::HrSyncBenchArgs),
}

/// The parts of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Part {
    /// The auth server: tokens, sign-ins beside raw Argon2, refresh.
    Auth,
    /// The directory API: reads by id, searches, photo uploads and reads.
    Api,
    /// The website: staff and directory pages, photos, and its token requests.
    Web,
    /// The mixed soak with each service's resident memory.
    Soak,
    /// A burst of sign-ins far beyond the auth server's hashing capacity: shed, then recovery.
    /// Run after the soak, whose memory figures it would otherwise inflate.
    Burst,
    /// The demo's start-up time.
    Ready,
}

/// What every scenario needs: where the services are, who to sign in as, how hard to push.
pub struct Target {
    /// The load generator's HTTP client (no redirects, timeouts).
    pub http: reqwest::Client,
    /// Measured seconds per scenario.
    pub seconds: u64,
    /// Connections of the load generator.
    pub connections: usize,
    /// The auth server's base URL (its issuer).
    pub auth: String,
    /// The directory API's base URL.
    pub api: String,
    /// The website's base URL.
    pub web: String,
    /// The users and password of the sign-in scenarios.
    pub fixture: Fixture,
    /// CPUs of this machine.
    pub cpus: usize,
    /// Threads the auth server hashes passwords on.
    pub hashers: usize,
    /// Staff records in the directory (ids 1 to this).
    pub records: usize,
}

impl Target {
    /// `client_credentials` token requests of the website's client (`directory:read`).
    pub fn client_credentials(
        &self,
    ) -> impl Fn() -> reqwest::RequestBuilder + Clone + Send + 'static {
        let (http, url) = (self.http.clone(), format!("{}/oauth/token", self.auth));
        move || {
            http.post(&url)
                .basic_auth(demo::WEB_CLIENT_ID, Some(demo::WEB_CLIENT_SECRET))
                .form(&[("grant_type", "client_credentials")])
        }
    }

    /// Password sign-ins through the website's client, cycling through `usernames` (all with
    /// the fixture's password).
    pub fn sign_ins(
        &self,
        usernames: Vec<String>,
    ) -> impl Fn() -> reqwest::RequestBuilder + Clone + Send + 'static {
        let (http, url) = (self.http.clone(), format!("{}/oauth/token", self.auth));
        let password = self.fixture.password.expose_secret().to_owned();
        let usernames = std::sync::Arc::new(usernames);
        let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        move || {
            let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % usernames.len();
            http.post(&url)
                .basic_auth(demo::WEB_CLIENT_ID, Some(demo::WEB_CLIENT_SECRET))
                .form(&[
                    ("grant_type", "password"),
                    ("username", usernames[i].as_str()),
                    ("password", password.as_str()),
                ])
        }
    }

    /// A thousand `GET /staff/{id}` URLs spread over the whole directory.
    pub fn read_urls(&self) -> Vec<String> {
        let records = self.records.max(1);
        (0..1000)
            .map(|k| format!("{}/staff/{}", self.api, 1 + (k * 7919) % records))
            .collect()
    }

    /// A `client_credentials` token of the website's client (`directory:read`).
    pub async fn web_app_token(&self) -> anyhow::Result<String> {
        let token: serde_json::Value = (self.client_credentials())()
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        Ok(token["access_token"]
            .as_str()
            .context("the token response has no access_token")?
            .to_owned())
    }
}

/// Runs `bench`: the whole table, or the one benchmark asked for.
pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    match args.only {
        Some(BenchCommand::HrSync(only)) => hr_sync::run(only).await,
        None => run_table(args).await,
    }
}

async fn run_table(args: BenchArgs) -> anyhow::Result<()> {
    let parts = if args.parts.is_empty() {
        vec![
            Part::Auth,
            Part::Api,
            Part::Web,
            Part::Soak,
            Part::Burst,
            Part::Ready,
        ]
    } else {
        args.parts.clone()
    };
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let connections = usize::try_from(args.concurrency)?;
    let folder = tempfile::tempdir().context("cannot create a temporary folder")?;
    let databases = Databases::create(args.database_url.as_deref(), folder.path()).await?;
    let records = if parts
        .iter()
        .any(|p| matches!(p, Part::Api | Part::Web | Part::Soak))
    {
        args.records
    } else {
        0
    };
    let fixture = fixture::seed(&databases, connections, records).await?;

    let started = Instant::now();
    let services = start_services(&args, &databases, folder.path()).await?;
    let [auth, api, web] = &services;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(connections + 4)
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(60))
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let target = Target {
        http,
        seconds: args.seconds,
        connections,
        auth: auth.base.clone(),
        api: api.base.clone(),
        web: web.base.clone(),
        fixture,
        cpus,
        hashers: args.password_hash_concurrency.unwrap_or(cpus),
        records: records + 60,
    };
    println!(
        "Staff Directory benchmark: {cpus} CPUs, {}, {} staff records, {connections} connections, \
         {} s per scenario after 1 s warm-up; each service is its own process with {cpus} \
         workers; the auth server hashes passwords on {} threads",
        databases.description,
        records + 60,
        args.seconds,
        target.hashers
    );

    let outcome = measure(&parts, &target, &services, &args, started).await;
    let mut stopped = Ok(());
    for service in services {
        let result = service.stop().await;
        if stopped.is_ok() {
            stopped = result;
        }
    }
    databases.remove().await?;
    let mut rows = outcome?;
    stopped?;
    if parts.contains(&Part::Ready) {
        rows.extend(ready::measure(folder.path()).await?);
    }
    print_table(&rows);
    println!(
        "\nPassword hashes run on threads of SCHED_IDLE priority, so beside other traffic \
         sign-ins slow down first. The control row runs threads of that priority that only spin: \
         what it costs the trivial endpoint is what busy CPUs cost on this machine, whatever \
         keeps them busy. docs/performance.md explains every figure."
    );
    Ok(())
}

/// The auth server, the API and the website, each its own process, each ready.
async fn start_services(
    args: &BenchArgs,
    databases: &Databases,
    logs: &std::path::Path,
) -> anyhow::Result<[Service; 3]> {
    let (auth_port, api_port, web_port) = (free_port()?, free_port()?, free_port()?);
    let issuer = format!("http://127.0.0.1:{auth_port}");
    let api_base = format!("http://127.0.0.1:{api_port}");
    let mut auth_args = vec![
        "auth-server".to_owned(),
        "--database-url".to_owned(),
        databases.auth.clone(),
        "serve".to_owned(),
        "--bind".to_owned(),
        format!("127.0.0.1:{auth_port}"),
        "--issuer".to_owned(),
        issuer.clone(),
    ];
    if let Some(n) = args.password_hash_concurrency {
        auth_args.extend(["--password-hash-concurrency".to_owned(), n.to_string()]);
    }
    let auth = Service::start("auth server", auth_port, &auth_args, &[], logs).await?;
    let api = Service::start(
        "directory API",
        api_port,
        &[
            "directory-api".to_owned(),
            "--database-url".to_owned(),
            databases.api.clone(),
            "serve".to_owned(),
            "--bind".to_owned(),
            format!("127.0.0.1:{api_port}"),
            "--issuer".to_owned(),
            issuer.clone(),
        ],
        &[],
        logs,
    )
    .await?;
    let web = Service::start(
        "website",
        web_port,
        &[
            "directory-web".to_owned(),
            "--bind".to_owned(),
            format!("127.0.0.1:{web_port}"),
            "--api-url".to_owned(),
            api_base,
            "--issuer".to_owned(),
            issuer,
            "--public-url".to_owned(),
            format!("http://127.0.0.1:{web_port}"),
            "--client-id".to_owned(),
            demo::WEB_CLIENT_ID.to_owned(),
        ],
        &[("WEB_CLIENT_SECRET", demo::WEB_CLIENT_SECRET)],
        logs,
    )
    .await?;
    Ok([auth, api, web])
}

async fn measure(
    parts: &[Part],
    target: &Target,
    services: &[Service; 3],
    args: &BenchArgs,
    started: Instant,
) -> anyhow::Result<Vec<Row>> {
    let mut rows = Vec::new();
    if parts.contains(&Part::Auth) {
        rows.extend(auth::measure(target).await?);
    }
    if parts.contains(&Part::Api) {
        rows.extend(api::measure(target).await?);
    }
    if parts.contains(&Part::Web) {
        rows.extend(web::measure(target).await?);
    }
    if parts.contains(&Part::Soak) {
        rows.extend(soak::measure(target, services, Duration::from_secs(args.soak_seconds)).await?);
    }
    if parts.contains(&Part::Web) || parts.contains(&Part::Soak) {
        rows.push(web::token_requests(target, started.elapsed()).await?);
    }
    if parts.contains(&Part::Burst) {
        rows.extend(burst::measure(target).await?);
    }
    Ok(rows)
}
