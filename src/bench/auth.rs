//! `bench auth`: starts the real auth server in-process and measures, in one run, token
//! throughput against a trivial endpoint, password sign-ins against the raw Argon2 ceiling,
//! and liveness latency while sign-ins saturate the CPU; prints one table.
//!
//! The load generator is closed-loop: each of N tasks sends a request, waits for the answer,
//! and sends the next. Every scenario is warmed up before its measured window; only requests
//! that complete inside the window count. A goal that is missed is a finding, not a failure:
//! the command still succeeds.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use auth_server::admin;
use auth_server::clock::{Clock as _, SystemClock};
use auth_server::config::Settings;
use auth_server::oauth::client_auth::ClientId;
use auth_server::oauth::password::{hash_now, verify_now};
use auth_server::oauth::username::Username;
use auth_server::startup::Application;
use auth_server::store::Db;
use secrecy::{ExposeSecret as _, SecretString};

use super::load::{
    Measured, Row, Sample, WARM_UP, Window, closed_loop, percent, print_table, verdict,
};
use crate::demo;

/// Concurrent requests of the liveness probe: light, so it measures latency, not capacity.
const PROBE_TASKS: usize = 2;
/// Pause between one probe request and the next.
const PROBE_GAP: Duration = Duration::from_millis(5);
/// `client_credentials` tokens per second, as a share of `/healthz` requests per second.
const TOKEN_GOAL: f64 = 0.25;
/// Password sign-ins per second, as a share of raw Argon2 verifications per second.
const SIGN_IN_GOAL: f64 = 0.80;
/// Probe p99 during sign-ins, as a multiple of the idle probe p99.
const PROBE_GOAL: f64 = 2.0;

/// Options of `bench auth`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Measured seconds per scenario (each is warmed up for one second more).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub seconds: u64,

    /// Connections of the load generator, each sending its next request when the previous
    /// one is answered.
    #[arg(long, default_value_t = 32)]
    pub concurrency: usize,

    /// Database of the server under test: `postgres://…` to measure on PostgreSQL (a client
    /// and a user with unique names are added to it). Default: a fresh SQLite file in a
    /// temporary folder.
    #[arg(long, env = "BENCH_DATABASE_URL")]
    pub database_url: Option<String>,

    /// Password hashes the server computes at once (default: one per CPU, as the server's own
    /// default).
    #[arg(long)]
    pub password_hash_concurrency: Option<usize>,
}

/// Runs every scenario against an in-process auth server and prints the table.
pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        (1..=4096).contains(&args.concurrency),
        "the concurrency must be between 1 and 4096"
    );
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    // Kept alive until the server has stopped: it holds the SQLite file.
    let dir = tempfile::tempdir().context("cannot create a temporary folder")?;
    let (url, database) = match &args.database_url {
        Some(url) if url.starts_with("sqlite:") => (url.clone(), "SQLite, the given file"),
        Some(url) => (url.clone(), "PostgreSQL"),
        None => (
            format!("sqlite://{}", dir.path().join("auth.db").display()),
            "SQLite, fresh file in a temporary folder",
        ),
    };
    let fixture = seed(&url, args.concurrency).await?;

    let mut settings = Settings::new(url, ([127, 0, 0, 1], 0).into());
    settings.serve.password_hash_concurrency = args.password_hash_concurrency;
    let hashers = args.password_hash_concurrency.unwrap_or(cpus);
    let app = Application::build(settings).await?;
    let base = format!("http://{}", app.address());
    let handle = app.handle();
    let server = tokio::spawn(app.run_until_stopped());

    println!(
        "auth server benchmark: {cpus} CPUs, {database}, {} connections, {} s per scenario \
         after {} s warm-up, {cpus} server workers, {hashers} password-hashing threads",
        args.concurrency,
        args.seconds,
        WARM_UP.as_secs()
    );
    let rows = measure(&args, cpus, &base, &fixture).await;

    handle.stop(true).await;
    server
        .await
        .context("the auth server task failed")?
        .context("the auth server failed")?;
    drop(dir);

    print_table(&rows?);
    println!(
        "\nPassword hashes run on threads of SCHED_IDLE priority: they take only CPU time no \
         request wants, so beside other traffic sign-ins slow down first. The probe rows show the \
         kernel's wake-up latency while every CPU is hashing; `--password-hash-concurrency 1` \
         keeps a CPU free for requests, at the cost of sign-in throughput."
    );
    Ok(())
}

/// The credentials the benchmark signs in with.
struct Fixture {
    client_id: String,
    client_secret: SecretString,
    /// One user per connection: a sign-in counts against its username's throttle while its
    /// password is being checked, so one username signed in 32 times at once would be
    /// (rightly) throttled. Real sign-ins come from many people.
    usernames: Vec<String>,
    password: SecretString,
}

/// Registers a web client and `users` users with names unique to this run, so a shared
/// PostgreSQL database can be measured repeatedly.
async fn seed(url: &str, users: usize) -> anyhow::Result<Fixture> {
    let suffix = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let client_id = format!("bench-web-{suffix:x}");
    let usernames: Vec<String> = (0..users)
        .map(|i| format!("bench-{suffix:x}-{i}"))
        .collect();
    let password = SecretString::from(format!("bench-password-{suffix:x}"));
    let db = Db::connect(url).await?;
    db.migrate().await?;
    let now = SystemClock.now();
    let client_secret = admin::create_client(
        &db,
        &ClientId::parse(&client_id)?,
        &demo::web_policy()?,
        now,
    )
    .await?;
    for username in &usernames {
        admin::create_user(&db, &Username::parse(username)?, &password, now).await?;
    }
    db.close().await;
    Ok(Fixture {
        client_id,
        client_secret,
        usernames,
        password,
    })
}

/// Every scenario, in order.
async fn measure(
    args: &BenchArgs,
    cpus: usize,
    base: &str,
    fixture: &Fixture,
) -> anyhow::Result<Vec<Row>> {
    let n = args.concurrency;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(n + PROBE_TASKS)
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let healthz_url = format!("{base}/healthz");
    let token_url = format!("{base}/oauth/token");
    let healthz = {
        let (client, url) = (client.clone(), healthz_url.clone());
        move || client.get(&url)
    };

    eprintln!("measuring GET /healthz at {n} connections…");
    let window = Window::after_warm_up(args.seconds);
    let base_load = closed_loop(n, None, window, healthz.clone())
        .await?
        .summarise(window);

    eprintln!("measuring GET /healthz with an idle-server probe…");
    let window = Window::after_warm_up(args.seconds);
    let idle_probe = closed_loop(PROBE_TASKS, Some(PROBE_GAP), window, healthz.clone())
        .await?
        .summarise(window);

    eprintln!("measuring client_credentials tokens…");
    let tokens = {
        let (client, url) = (client.clone(), token_url.clone());
        let (id, secret) = (
            fixture.client_id.clone(),
            fixture.client_secret.expose_secret().to_owned(),
        );
        move || {
            client
                .post(&url)
                .basic_auth(&id, Some(&secret))
                .form(&[("grant_type", "client_credentials")])
        }
    };
    let window = Window::after_warm_up(args.seconds);
    let token_load = closed_loop(n, None, window, tokens)
        .await?
        .summarise(window);

    eprintln!("measuring raw Argon2 verifications on {cpus} threads…");
    let ceiling = argon2_ceiling(cpus, args.seconds, fixture.password.clone()).await?;

    eprintln!("measuring password sign-ins, probing GET /healthz meanwhile…");
    let sign_ins = {
        let (client, url) = (client.clone(), token_url);
        let (id, secret) = (
            fixture.client_id.clone(),
            fixture.client_secret.expose_secret().to_owned(),
        );
        let usernames = std::sync::Arc::new(fixture.usernames.clone());
        let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let password = fixture.password.expose_secret().to_owned();
        move || {
            let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % usernames.len();
            client.post(&url).basic_auth(&id, Some(&secret)).form(&[
                ("grant_type", "password"),
                ("username", usernames[i].as_str()),
                ("password", &password),
            ])
        }
    };
    let window = Window::after_warm_up(args.seconds);
    let (sign_in_load, busy_probe) = tokio::try_join!(
        closed_loop(n, None, window, sign_ins.clone()),
        closed_loop(PROBE_TASKS, Some(PROBE_GAP), window, healthz.clone()),
    )?;
    let (sign_in_load, busy_probe) = (sign_in_load.summarise(window), busy_probe.summarise(window));

    eprintln!(
        "measuring GET /healthz at {n} connections while sign-ins saturate the hashing threads…"
    );
    let window = Window::after_warm_up(args.seconds);
    let (contended_sign_ins, contended_base) = tokio::try_join!(
        closed_loop(n, None, window, sign_ins),
        closed_loop(n, None, window, healthz),
    )?;
    let (contended_sign_ins, contended_base) = (
        contended_sign_ins.summarise(window),
        contended_base.summarise(window),
    );

    let token_ratio = base_load.share(&token_load);
    let sign_in_ratio = ceiling.share(&sign_in_load);
    let p99_ratio = |busy: &Measured, idle: &Measured| match (busy.p99, idle.p99) {
        (Some(busy), Some(idle)) if !idle.is_zero() => {
            Some(busy.as_secs_f64() / idle.as_secs_f64())
        }
        _ => None,
    };
    let probe_ratio = p99_ratio(&busy_probe, &idle_probe);
    let contended_ratio = p99_ratio(&contended_base, &base_load);
    let contended_share = percent(ceiling.share(&contended_sign_ins), "of Argon2");
    let token_verdict = verdict(token_ratio.map(|r| r >= TOKEN_GOAL), token_load.errors);
    let sign_in_verdict = verdict(
        sign_in_ratio.map(|r| r >= SIGN_IN_GOAL),
        sign_in_load.errors,
    );
    let contended_verdict = verdict(
        contended_ratio.map(|r| r <= PROBE_GOAL),
        contended_base.errors,
    );
    Ok(vec![
        Row::new(
            format!("GET /healthz, {n} conns (baseline)"),
            base_load,
            "—",
            "—".into(),
        ),
        Row::new(
            format!("GET /healthz, {PROBE_TASKS}-conn probe, idle (baseline)"),
            idle_probe,
            "—",
            "—".into(),
        ),
        Row::new(
            format!("client_credentials token, {n} conns"),
            token_load,
            &percent(token_ratio, "of healthz"),
            format!("≥{:.0}%: {token_verdict}", TOKEN_GOAL * 100.0),
        ),
        Row::new(
            format!("Argon2 verify, {cpus} threads (ceiling)"),
            ceiling,
            "—",
            "—".into(),
        ),
        Row::new(
            format!("password sign-in, {n} conns"),
            sign_in_load,
            &percent(sign_in_ratio, "of Argon2"),
            format!("≥{:.0}%: {sign_in_verdict}", SIGN_IN_GOAL * 100.0),
        ),
        Row::new(
            format!("GET /healthz, {PROBE_TASKS}-conn probe, during sign-ins"),
            busy_probe,
            &probe_ratio.map_or("—".to_owned(), |r| format!("p99 {r:.1}× idle")),
            "(no goal: see below)".into(),
        ),
        Row::new(
            format!("GET /healthz, {n} conns, during sign-ins"),
            contended_base,
            &contended_ratio.map_or("—".to_owned(), |r| format!("p99 {r:.1}× unloaded")),
            format!("≤{PROBE_GOAL:.0}× p99: {contended_verdict}"),
        ),
        Row::new(
            format!("password sign-in, {n} conns, beside that"),
            contended_sign_ins,
            &contended_share,
            "(hashing yields to requests)".into(),
        ),
    ])
}

/// Raw Argon2 verifications with the server's parameters on `threads` OS threads: the most
/// sign-ins per second this machine could ever serve.
async fn argon2_ceiling(
    threads: usize,
    seconds: u64,
    password: SecretString,
) -> anyhow::Result<Measured> {
    tokio::task::spawn_blocking(move || {
        let password = password.expose_secret();
        let phc = hash_now(password)?;
        let window = Window::after_warm_up(seconds);
        let sample = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..threads)
                .map(|_| {
                    scope.spawn(|| {
                        let mut sample = Sample::default();
                        while Instant::now() < window.end {
                            let started = Instant::now();
                            let outcome = match verify_now(password, &phc) {
                                Ok(true) => Ok(()),
                                Ok(false) => Err("the password did not verify".to_owned()),
                                Err(e) => Err(format!("{e:#}")),
                            };
                            sample.record(window, started, outcome);
                        }
                        sample
                    })
                })
                .collect();
            let mut total = Sample::default();
            for worker in workers {
                let sample = worker
                    .join()
                    .map_err(|_| anyhow::anyhow!("an Argon2 thread panicked"))?;
                total.merge(sample);
            }
            anyhow::Ok(total)
        })?;
        Ok(sample.summarise(window))
    })
    .await
    .context("the Argon2 benchmark task failed")?
}
