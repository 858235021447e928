//! A burst of sign-ins far beyond what the auth server can hash: it must shed the excess at
//! once (503 `temporarily_unavailable`, `Retry-After`) rather than queue it, and serve sign-ins
//! at its usual rate right after. "At once" is measured against bursts of the same size in the
//! same run: a thousand connections opened together cost the load generator and the kernel
//! something whatever the server answers. The goal's baseline is a burst of `client_credentials`
//! token requests, which do everything a shed sign-in does (read the form, authenticate the
//! client) but hash no password; a burst to `GET /healthz` is shown beside it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;

use super::Target;
use super::load::{Measured, Row, Window, closed_loop, percent, percentile, verdict};
use crate::demo;

/// Sign-ins sent at the same moment: many times the 64 places of the default queue.
pub const BURST: usize = 1000;
/// The shed answers' p99, as a multiple of the p99 of a burst of `client_credentials` token
/// requests of the same size: a refusal costs no hash and no wait, so it should answer like a
/// request that needs none.
const SHED_P99_GOAL: f64 = 2.0;
/// Sign-ins per second right after the burst, as a share of the rate measured before it.
const RECOVERY_GOAL: f64 = 0.80;

/// How one request of a burst was answered.
enum Answer {
    /// Answered without a hash: 503 `temporarily_unavailable` with `Retry-After` (shed), or a
    /// baseline's 200.
    Quick(Duration),
    /// 400 `invalid_grant`: the password was checked (the burst's usernames do not exist).
    Checked(Duration),
}

/// What a burst saw: the quick answers (shed, or a baseline's 200) and the checked ones,
/// their latencies sorted, and the answers that were neither.
#[derive(Default)]
struct Seen {
    quick: Vec<Duration>,
    checked: Vec<Duration>,
    unexpected: u64,
    first_error: Option<String>,
    took: Duration,
}

impl Seen {
    fn measured(&self, latencies: &[Duration]) -> Measured {
        Measured {
            rate: latencies.len() as f64 / self.took.as_secs_f64(),
            p50: percentile(latencies, 0.50),
            p99: percentile(latencies, 0.99),
            errors: self.unexpected,
            first_error: self.first_error.clone(),
        }
    }
}

/// Sends [`BURST`] requests at the same moment, `send(i)` each, and sorts their answers.
async fn fire<F, Fut>(send: F) -> anyhow::Result<Seen>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = Result<Answer, String>> + Send + 'static,
{
    let gate = Arc::new(tokio::sync::Barrier::new(BURST));
    let started = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for i in 0..BURST {
        let (gate, request) = (gate.clone(), send(i));
        set.spawn(async move {
            gate.wait().await;
            request.await
        });
    }
    let mut seen = Seen::default();
    while let Some(answer) = set.join_next().await {
        match answer.context("a burst task failed")? {
            Ok(Answer::Quick(took)) => seen.quick.push(took),
            Ok(Answer::Checked(took)) => seen.checked.push(took),
            Err(e) => {
                seen.unexpected += 1;
                seen.first_error.get_or_insert(e);
            }
        }
    }
    seen.took = started.elapsed();
    seen.quick.sort_unstable();
    seen.checked.sort_unstable();
    Ok(seen)
}

/// Sign-ins before the burst, the bursts, then sign-ins right after. Run after the soak, so
/// that the memory the burst's thousand connections leave behind does not count there.
pub async fn measure(target: &Target) -> anyhow::Result<Vec<Row>> {
    let n = target.connections;
    eprintln!("burst: password sign-ins before the burst…");
    let window = Window::after_warm_up(target.seconds);
    let before = closed_loop(
        n,
        None,
        window,
        target.sign_ins(target.fixture.usernames.clone()),
    )
    .await?
    .summarise(window);
    let url = format!("{}/oauth/token", target.auth);
    let healthz = format!("{}/healthz", target.auth);
    eprintln!("burst: a burst of {BURST} GET /healthz at once…");
    let healthz_burst = fire(|_| quick_once(target.http.get(&healthz))).await?;
    eprintln!("burst: a burst of {BURST} client_credentials token requests at once (baseline)…");
    let tokens = target.client_credentials();
    let token_burst = fire(|_| quick_once(tokens())).await?;
    eprintln!("burst: a burst of {BURST} sign-ins at once…");
    let burst = fire(|i| {
        let (http, url) = (target.http.clone(), url.clone());
        async move { sign_in_once(&http, &url, &format!("burst-{i}")).await }
    })
    .await?;
    let healthz_row = healthz_burst.measured(&healthz_burst.quick);
    let token_row = token_burst.measured(&token_burst.quick);
    let shed_row = burst.measured(&burst.quick);
    let shed_ratio = super::load::p99_ratio(&shed_row, &token_row);
    let healthz_ratio = super::load::p99_ratio(&shed_row, &healthz_row);
    let shed_verdict = verdict(
        shed_ratio.map(|r| !burst.quick.is_empty() && r <= SHED_P99_GOAL),
        burst.unexpected,
    );

    eprintln!("burst: password sign-ins right after the burst…");
    let first = Instant::now();
    let recovered_in = loop {
        // The first sign-in of a real user once the burst's answers are all in.
        let response = (target.sign_ins(target.fixture.usernames.clone()))()
            .send()
            .await?;
        if response.status().is_success() {
            break first.elapsed();
        }
        anyhow::ensure!(
            first.elapsed() < Duration::from_secs(30),
            "no sign-in succeeded within 30 s of the burst (last answer {})",
            response.status()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    let window = Window::after_warm_up(target.seconds);
    let after = closed_loop(
        n,
        None,
        window,
        target.sign_ins(target.fixture.usernames.clone()),
    )
    .await?
    .summarise(window);
    let recovery = before.share(&after);
    let recovery_verdict = verdict(recovery.map(|r| r >= RECOVERY_GOAL), after.errors);
    let recovery_ratio = percent(recovery, "of before");
    Ok(vec![
        Row::new(
            format!("password sign-in before the burst, {n} conns"),
            before,
            "—",
            "—".into(),
        ),
        Row::new(
            format!("auth GET /healthz burst, {BURST} at once"),
            healthz_row,
            "—",
            "—".into(),
        ),
        Row::new(
            format!("client_credentials burst, {BURST} at once (baseline)"),
            token_row,
            "—",
            "—".into(),
        ),
        Row::new(
            format!("password sign-in burst, {BURST} at once (the shed ones)"),
            shed_row,
            &format!(
                "{} shed (503), {} checked (p99 {}); p99 {}, {}",
                burst.quick.len(),
                burst.checked.len(),
                percentile(&burst.checked, 0.99).map_or("—".to_owned(), |d| format!(
                    "{:.0} ms",
                    d.as_secs_f64() * 1e3
                )),
                shed_ratio.map_or("—".to_owned(), |r| format!("{r:.1}× the token burst")),
                healthz_ratio.map_or("—".to_owned(), |r| format!("{r:.1}× the healthz one")),
            ),
            format!("shed p99 ≤{SHED_P99_GOAL:.0}× token burst: {shed_verdict}"),
        ),
        Row::timed(
            "first sign-in after the burst".into(),
            recovered_in,
            "(recovered)".into(),
        ),
        Row::new(
            format!("password sign-in after the burst, {n} conns"),
            after,
            &recovery_ratio,
            format!("≥{:.0}%: {recovery_verdict}", RECOVERY_GOAL * 100.0),
        ),
    ])
}

/// One request of a baseline burst: a 2xx counts as answered.
async fn quick_once(request: reqwest::RequestBuilder) -> Result<Answer, String> {
    let started = Instant::now();
    super::load::send(request).await?;
    Ok(Answer::Quick(started.elapsed()))
}

/// One sign-in of an unknown user with the website's client: shed or checked, or why it was
/// neither.
async fn sign_in_once(http: &reqwest::Client, url: &str, username: &str) -> Result<Answer, String> {
    let started = Instant::now();
    let response = http
        .post(url)
        .basic_auth(demo::WEB_CLIENT_ID, Some(demo::WEB_CLIENT_SECRET))
        .form(&[
            ("grant_type", "password"),
            ("username", username),
            ("password", "not the password"),
        ])
        .send()
        .await
        .map_err(|e| format!("{:#}", anyhow::Error::from(e)))?;
    let status = response.status().as_u16();
    let retry_after = response.headers().contains_key("retry-after");
    let body: serde_json::Value = response
        .json()
        .await
        .map_err(|e| format!("{:#}", anyhow::Error::from(e)))?;
    let took = started.elapsed();
    match (status, body["error"].as_str()) {
        (503, Some("temporarily_unavailable")) if retry_after => Ok(Answer::Quick(took)),
        (400, Some("invalid_grant")) => Ok(Answer::Checked(took)),
        _ => Err(format!("{status}: {body}")),
    }
}
