//! The load generator of the benchmarks: closed-loop tasks over a measured window, latency
//! percentiles, and the printed table.

use std::time::{Duration, Instant};

use anyhow::Context as _;

/// Load before each measured window, so connections, caches and the pool are warm.
pub const WARM_UP: Duration = Duration::from_secs(1);

/// The measured window of a scenario: it opens after the warm-up.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub start: Instant,
    pub end: Instant,
}

impl Window {
    pub fn after_warm_up(seconds: u64) -> Self {
        let start = Instant::now() + WARM_UP;
        Self {
            start,
            end: start + Duration::from_secs(seconds),
        }
    }

    pub fn contains(&self, t: Instant) -> bool {
        self.start <= t && t <= self.end
    }
}

/// What the load tasks of one scenario saw.
#[derive(Debug, Default)]
pub struct Sample {
    pub ok: u64,
    pub errors: u64,
    /// Latencies of the successful requests only, so fast refusals cannot flatter them.
    pub latencies: Vec<Duration>,
    pub first_error: Option<String>,
}

impl Sample {
    /// Counts an operation started at `started` and finishing now, if it finished inside
    /// the window.
    pub fn record(&mut self, window: Window, started: Instant, outcome: Result<(), String>) {
        let done = Instant::now();
        if !window.contains(done) {
            return;
        }
        match outcome {
            Ok(()) => {
                self.ok += 1;
                self.latencies.push(done - started);
            }
            Err(e) => {
                self.errors += 1;
                self.first_error.get_or_insert(e);
            }
        }
    }

    pub fn merge(&mut self, other: Sample) {
        self.ok += other.ok;
        self.errors += other.errors;
        self.latencies.extend(other.latencies);
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }

    pub fn summarise(mut self, window: Window) -> Measured {
        self.latencies.sort_unstable();
        let secs = (window.end - window.start).as_secs_f64();
        Measured {
            rate: self.ok as f64 / secs,
            p50: percentile(&self.latencies, 0.50),
            p99: percentile(&self.latencies, 0.99),
            errors: self.errors,
            first_error: self.first_error,
        }
    }
}

/// The nearest-rank percentile `q` of sorted latencies.
pub fn percentile(sorted: &[Duration], q: f64) -> Option<Duration> {
    let rank = (sorted.len() as f64 * q).ceil() as usize;
    sorted.get(rank.clamp(1, sorted.len().max(1)) - 1).copied()
}

/// One scenario's figures.
#[derive(Debug)]
pub struct Measured {
    /// Successful operations per second.
    pub rate: f64,
    pub p50: Option<Duration>,
    pub p99: Option<Duration>,
    pub errors: u64,
    pub first_error: Option<String>,
}

impl Measured {
    /// `other`'s rate as a share of this one's.
    pub fn share(&self, other: &Measured) -> Option<f64> {
        (self.rate > 0.0).then(|| other.rate / self.rate)
    }
}

/// `tasks` tasks, each sending `request()` and awaiting the whole answer in a loop (pausing
/// `gap` between requests if given) until the window closes.
pub async fn closed_loop<F>(
    tasks: usize,
    gap: Option<Duration>,
    window: Window,
    request: F,
) -> anyhow::Result<Sample>
where
    F: Fn() -> reqwest::RequestBuilder + Clone + Send + 'static,
{
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..tasks {
        let request = request.clone();
        set.spawn(async move {
            let mut sample = Sample::default();
            while Instant::now() < window.end {
                let started = Instant::now();
                let outcome = send(request()).await;
                sample.record(window, started, outcome);
                if let Some(gap) = gap {
                    tokio::time::sleep(gap).await;
                }
            }
            sample
        });
    }
    let mut total = Sample::default();
    while let Some(sample) = set.join_next().await {
        total.merge(sample.context("a load task failed")?);
    }
    Ok(total)
}

/// Sends a request and reads the whole body; anything but a 2xx is an error.
pub async fn send(request: reqwest::RequestBuilder) -> Result<(), String> {
    let describe = |e: reqwest::Error| format!("{:#}", anyhow::Error::from(e));
    let response = request.send().await.map_err(describe)?;
    let status = response.status();
    let body = response.bytes().await.map_err(describe)?;
    if status.is_success() {
        Ok(())
    } else {
        // OAuth error bodies carry a code and a fixed description, never a secret.
        let shown = String::from_utf8_lossy(body.get(..200).unwrap_or(&body)).into_owned();
        Err(format!("{status}: {shown}"))
    }
}

/// `busy`'s p99 as a multiple of `idle`'s.
pub fn p99_ratio(busy: &Measured, idle: &Measured) -> Option<f64> {
    match (busy.p99, idle.p99) {
        (Some(busy), Some(idle)) if !idle.is_zero() => {
            Some(busy.as_secs_f64() / idle.as_secs_f64())
        }
        _ => None,
    }
}

/// A request factory cycling through `urls`, with a bearer token when given.
pub fn cycling(
    http: &reqwest::Client,
    urls: Vec<String>,
    bearer: Option<String>,
) -> impl Fn() -> reqwest::RequestBuilder + Clone + Send + 'static {
    let http = http.clone();
    let urls = std::sync::Arc::new(urls);
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    move || {
        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % urls.len();
        let request = http.get(&urls[i]);
        match &bearer {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }
}

/// `closed_loop` over a measured window of `seconds`, summarised.
pub async fn measure_closed_loop<F>(
    tasks: usize,
    seconds: u64,
    request: F,
) -> anyhow::Result<Measured>
where
    F: Fn() -> reqwest::RequestBuilder + Clone + Send + 'static,
{
    let window = Window::after_warm_up(seconds);
    Ok(closed_loop(tasks, None, window, request)
        .await?
        .summarise(window))
}

/// `ok`, `MISSED`, or why there is no verdict.
pub fn verdict(met: Option<bool>, errors: u64) -> &'static str {
    match met {
        _ if errors > 0 => "MISSED (errors)",
        Some(true) => "ok",
        Some(false) => "MISSED",
        None => "no data",
    }
}

pub fn percent(ratio: Option<f64>, of: &str) -> String {
    ratio.map_or("—".to_owned(), |r| format!("{:.0}% {of}", r * 100.0))
}

/// One line of the table: a load scenario's figures, or a single timing, or only a finding
/// (memory, counts) in the ratio column.
pub struct Row {
    pub scenario: String,
    pub measured: Option<Measured>,
    pub ratio: String,
    pub goal: String,
}

impl Row {
    pub fn new(scenario: String, measured: Measured, ratio: &str, goal: String) -> Self {
        Self {
            scenario,
            measured: Some(measured),
            ratio: ratio.to_owned(),
            goal,
        }
    }

    /// A row with a single duration, shown as its p50 and p99.
    pub fn timed(scenario: String, took: Duration, goal: String) -> Self {
        Self::new(
            scenario,
            Measured {
                rate: 0.0,
                p50: Some(took),
                p99: Some(took),
                errors: 0,
                first_error: None,
            },
            "(one start)",
            goal,
        )
    }

    /// A row with no load figures: the finding is in `ratio`.
    pub fn finding(scenario: String, ratio: String, goal: String) -> Self {
        Self {
            scenario,
            measured: None,
            ratio,
            goal,
        }
    }
}

pub fn print_table(rows: &[Row]) {
    let ms = |d: Option<Duration>| {
        d.map_or("—".to_owned(), |d| {
            format!("{:.2}", d.as_secs_f64() * 1e3)
        })
    };
    println!();
    println!(
        "{:<50} {:>9} {:>8} {:>8} {:>6}  {:<30} goal / verdict",
        "scenario", "req/s", "p50 ms", "p99 ms", "errors", "ratio / finding"
    );
    println!("{}", "-".repeat(50 + 9 + 8 + 8 + 6 + 30 + 6 + 24));
    for row in rows {
        let (rate, p50, p99, errors) = match &row.measured {
            Some(m) if m.rate > 0.0 || m.errors > 0 => (
                format!("{:.1}", m.rate),
                ms(m.p50),
                ms(m.p99),
                m.errors.to_string(),
            ),
            Some(m) => ("—".to_owned(), ms(m.p50), ms(m.p99), m.errors.to_string()),
            None => (
                "—".to_owned(),
                "—".to_owned(),
                "—".to_owned(),
                "—".to_owned(),
            ),
        };
        println!(
            "{:<50} {:>9} {:>8} {:>8} {:>6}  {:<30} {}",
            row.scenario, rate, p50, p99, errors, row.ratio, row.goal
        );
    }
    for row in rows {
        if let Some(e) = row.measured.as_ref().and_then(|m| m.first_error.as_ref()) {
            println!("first error of \"{}\": {e}", row.scenario);
        }
    }
}
