//! The auth server's rows: its trivial endpoint (the baseline), `client_credentials` tokens,
//! password sign-ins and whole authorization-code sign-ins beside the raw Argon2 ceiling, the
//! baseline's latency while sign-ins saturate the hashing threads, and refresh-token rotation.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use anyhow::Context as _;
use auth_server::oauth::password::{hash_now, verify_now};
use secrecy::{ExposeSecret as _, SecretString};

use super::Target;
use super::load::{Measured, Row, Sample, Window, closed_loop, p99_ratio, percent, verdict};
use crate::demo;

/// `client_credentials` tokens per second, as a share of `/healthz` requests per second.
const TOKEN_GOAL: f64 = 0.25;
/// Password sign-ins per second, as a share of raw Argon2 verifications per second.
const SIGN_IN_GOAL: f64 = 0.80;
/// Whole authorization-code sign-ins (page, form, code, token) per second, as a share of raw
/// Argon2 verifications per second: three more requests than the password grant's one, around
/// the same single hash.
const CODE_FLOW_GOAL: f64 = 0.70;
/// The baseline's p99 while sign-ins saturate the hashing threads, as a multiple of its p99
/// unloaded.
const CONTENDED_P99_GOAL: f64 = 2.0;
/// Refresh grants per second, as a share of `/healthz` requests per second.
const REFRESH_GOAL: f64 = 0.10;

/// Every auth-server scenario, in order.
pub async fn measure(target: &Target) -> anyhow::Result<Vec<Row>> {
    let (n, seconds) = (target.connections, target.seconds);
    let http = target.http.clone();
    let healthz_url = format!("{}/healthz", target.auth);
    let token_url = format!("{}/oauth/token", target.auth);
    let healthz = {
        let (http, url) = (http.clone(), healthz_url);
        move || http.get(&url)
    };

    eprintln!("auth: GET /healthz at {n} connections…");
    let window = Window::after_warm_up(seconds);
    let baseline = closed_loop(n, None, window, healthz.clone())
        .await?
        .summarise(window);

    eprintln!("auth: client_credentials tokens…");
    let window = Window::after_warm_up(seconds);
    let token_load = closed_loop(n, None, window, target.client_credentials())
        .await?
        .summarise(window);

    eprintln!(
        "auth: raw Argon2 verifications on {} threads…",
        target.hashers
    );
    let password = target.fixture.password.clone();
    let ceiling = argon2_ceiling(target.hashers, seconds, password).await?;

    let sign_ins = target.sign_ins(target.fixture.usernames.clone());
    eprintln!("auth: password sign-ins…");
    let window = Window::after_warm_up(seconds);
    let sign_in_load = closed_loop(n, None, window, sign_ins.clone())
        .await?
        .summarise(window);

    eprintln!("auth: authorization-code sign-ins (page, form, code, token)…");
    let code_flow = super::code_flow::sign_ins(target).await?;

    eprintln!("auth: GET /healthz at {n} connections while sign-ins saturate the hashing threads…");
    let window = Window::after_warm_up(seconds);
    let (contended_sign_ins, contended) = tokio::try_join!(
        closed_loop(n, None, window, sign_ins),
        closed_loop(n, None, window, healthz.clone()),
    )?;
    let (contended_sign_ins, contended) = (
        contended_sign_ins.summarise(window),
        contended.summarise(window),
    );

    eprintln!("auth: GET /healthz at {n} connections beside idle-priority spinning threads…");
    let control = beside_idle_spinners(target.hashers, || {
        let window = Window::after_warm_up(seconds);
        let healthz = healthz.clone();
        async move {
            anyhow::Ok(
                closed_loop(n, None, window, healthz)
                    .await?
                    .summarise(window),
            )
        }
    })
    .await?;

    eprintln!("auth: refresh-token rotation…");
    let refresh = refresh_rotation(target, &token_url).await?;

    let token_ratio = baseline.share(&token_load);
    let sign_in_ratio = ceiling.share(&sign_in_load);
    let code_flow_ratio = ceiling.share(&code_flow);
    let code_flow_verdict = verdict(
        code_flow_ratio.map(|r| r >= CODE_FLOW_GOAL),
        code_flow.errors,
    );
    let contended_ratio = p99_ratio(&contended, &baseline);
    let refresh_ratio = baseline.share(&refresh);
    let token_verdict = verdict(token_ratio.map(|r| r >= TOKEN_GOAL), token_load.errors);
    let sign_in_verdict = verdict(
        sign_in_ratio.map(|r| r >= SIGN_IN_GOAL),
        sign_in_load.errors,
    );
    let contended_verdict = verdict(
        contended_ratio.map(|r| r <= CONTENDED_P99_GOAL),
        contended.errors,
    );
    let refresh_verdict = verdict(refresh_ratio.map(|r| r >= REFRESH_GOAL), refresh.errors);
    let contended_share = percent(ceiling.share(&contended_sign_ins), "of Argon2");
    let control_ratio = p99_ratio(&control, &baseline);
    Ok(vec![
        Row::new(
            format!("auth GET /healthz, {n} conns (baseline)"),
            baseline,
            "—",
            "—".into(),
        ),
        Row::new(
            format!("client_credentials token, {n} conns"),
            token_load,
            &percent(token_ratio, "of auth healthz"),
            format!("≥{:.0}%: {token_verdict}", TOKEN_GOAL * 100.0),
        ),
        Row::new(
            format!("Argon2 verify, {} threads (ceiling)", target.hashers),
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
            format!("code-flow sign-in (4 requests), {n} conns"),
            code_flow,
            &percent(code_flow_ratio, "of Argon2"),
            format!("≥{:.0}%: {code_flow_verdict}", CODE_FLOW_GOAL * 100.0),
        ),
        Row::new(
            format!("auth GET /healthz, {n} conns, during sign-ins"),
            contended,
            &contended_ratio.map_or("—".to_owned(), |r| format!("p99 {r:.1}× unloaded")),
            format!("p99 ≤{CONTENDED_P99_GOAL:.0}×: {contended_verdict}"),
        ),
        Row::new(
            format!("password sign-in, {n} conns, beside that"),
            contended_sign_ins,
            &contended_share,
            "(hashing yields to requests)".into(),
        ),
        Row::new(
            format!(
                "auth GET /healthz, {n} conns, beside {} idle spinners",
                target.hashers
            ),
            control,
            &control_ratio.map_or("—".to_owned(), |r| format!("p99 {r:.1}× unloaded")),
            "(control: no Argon2 at all)".into(),
        ),
        Row::new(
            format!("refresh_token grant (rotation), {n} conns"),
            refresh,
            &percent(refresh_ratio, "of auth healthz"),
            format!("≥{:.0}%: {refresh_verdict}", REFRESH_GOAL * 100.0),
        ),
    ])
}

/// Refresh grants: each connection signs in once (before the window), then rotates its own
/// refresh token in a loop, always presenting the newest one, as a browser session does.
async fn refresh_rotation(target: &Target, token_url: &str) -> anyhow::Result<Measured> {
    let window = Window::after_warm_up(target.seconds);
    let mut set = tokio::task::JoinSet::new();
    for username in target.fixture.usernames.iter().take(target.connections) {
        let (http, url) = (target.http.clone(), token_url.to_owned());
        let sign_in = target.sign_ins(vec![username.clone()]);
        set.spawn(async move {
            let signed_in: serde_json::Value =
                sign_in().send().await?.error_for_status()?.json().await?;
            let mut refresh = signed_in["refresh_token"]
                .as_str()
                .context("the sign-in gave no refresh token")?
                .to_owned();
            let mut sample = Sample::default();
            while Instant::now() < window.end {
                let started = Instant::now();
                let outcome = rotate(&http, &url, &refresh).await;
                let outcome = outcome.map(|next| refresh = next);
                sample.record(window, started, outcome);
            }
            anyhow::Ok(sample)
        });
    }
    let mut total = Sample::default();
    while let Some(sample) = set.join_next().await {
        total.merge(sample.context("a refresh task failed")??);
    }
    Ok(total.summarise(window))
}

/// One refresh grant: the new refresh token, or why there is none.
async fn rotate(http: &reqwest::Client, url: &str, refresh: &str) -> Result<String, String> {
    let response = http
        .post(url)
        .basic_auth(demo::WEB_CLIENT_ID, Some(demo::WEB_CLIENT_SECRET))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", refresh)])
        .send()
        .await
        .map_err(|e| format!("{e:#}"))?;
    let status = response.status();
    let body: serde_json::Value = response.json().await.map_err(|e| format!("{e:#}"))?;
    if !status.is_success() {
        return Err(format!("{status}: {}", body["error"]));
    }
    body["refresh_token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| "no refresh token in the answer".to_owned())
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

/// Runs `measure` while `threads` threads of the same `SCHED_IDLE` priority as the hashing
/// threads spin on nothing: no memory traffic, no Argon2, only CPUs kept busy. It tells what
/// busy CPUs cost the other requests on this machine, apart from anything Argon2 does.
async fn beside_idle_spinners<F, Fut>(threads: usize, measure: F) -> anyhow::Result<Measured>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<Measured>>,
{
    use std::sync::atomic::AtomicBool;
    let stop = Arc::new(AtomicBool::new(false));
    let spinners: Vec<_> = (0..threads)
        .map(|_| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                auth_server::oauth::hashing::lower_priority();
                let mut n: u64 = 0;
                while !stop.load(Ordering::Relaxed) {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
            })
        })
        .collect();
    let measured = measure().await;
    stop.store(true, Ordering::Relaxed);
    for spinner in spinners {
        spinner
            .join()
            .map_err(|_| anyhow::anyhow!("a spinning thread panicked"))?;
    }
    measured
}
