//! `docs/1-two-grants.md`, `docs/2-walkthrough.md`, `docs/3-what-separation-stops.md` and
//! `docs/4-the-password-grant-today.md` run as written: every `sh` block
//! of a page is executed in order, in one shell, against a fresh demo of its own (seeded exactly as
//! `cargo run` seeds it), and what each block prints must match the `text` block after it, where
//! `…` stands for anything. The pages cannot go stale. (`console` blocks are shown, not run.) A
//! block may be indented (inside a list item): its lines lose the fence's indentation. The shell
//! runs in a directory of its own, so files a page writes never land in the repository.
//! `docs/5-attacks-you-can-try.md` runs the same way, with a lab (`staff-directory lab`) beside
//! the demo at `$LAB`.
//!
//! They need `curl`, `jq`, `openssl` and `python3`; `cargo test` lists them as ignored, `.ci/run` installs
//! `jq` and runs them.

use std::sync::Arc;

use crate::support::*;

const GRANTS: &str = include_str!("../../docs/1-two-grants.md");
const WALKTHROUGH: &str = include_str!("../../docs/2-walkthrough.md");
const SEPARATION: &str = include_str!("../../docs/3-what-separation-stops.md");
const PASSWORD_TODAY: &str = include_str!("../../docs/4-the-password-grant-today.md");
const ATTACKS: &str = include_str!("../../docs/5-attacks-you-can-try.md");

/// The `sh` blocks, each with the `text` block that follows it, if any.
fn blocks(markdown: &str) -> Vec<(String, Option<String>)> {
    let mut out: Vec<(String, Option<String>)> = Vec::new();
    let mut lines = markdown.lines();
    while let Some(line) = lines.next() {
        let fence = line.trim();
        if fence != "```sh" && fence != "```text" {
            continue;
        }
        let indent = &line[..line.len() - line.trim_start().len()];
        let body: Vec<&str> = lines
            .by_ref()
            .take_while(|l| l.trim() != "```")
            .map(|l| l.strip_prefix(indent).unwrap_or(l))
            .collect();
        let body = body.join("\n");
        if fence == "```sh" {
            out.push((body, None));
        } else if let Some(last) = out.last_mut() {
            last.1 = Some(body);
        }
    }
    out
}

/// A regex for an expected output: literal text, `…` matching anything, default addresses
/// replaced by the test's.
fn pattern(expected: &str, auth: &str, api: &str, lab: &str) -> regex::Regex {
    let expected = expected
        .replace("http://127.0.0.1:8082", auth)
        .replace("http://127.0.0.1:8081", api)
        .replace("http://127.0.0.1:8083", lab);
    let parts: Vec<String> = expected.trim_end().split('…').map(regex::escape).collect();
    regex::Regex::new(&format!("(?s)^{}$", parts.join(".*?"))).unwrap()
}

#[tokio::test]
#[ignore = "needs curl, jq and python3: .ci/run installs them and runs it with --ignored"]
async fn docs_grants_runs_as_written() {
    runs_as_written("grants", GRANTS, 5).await;
}

#[tokio::test]
#[ignore = "needs curl and jq: .ci/run installs jq and runs it with --ignored"]
async fn docs_walkthrough_runs_as_written() {
    runs_as_written("walkthrough", WALKTHROUGH, 10).await;
}

#[tokio::test]
#[ignore = "needs curl, jq and openssl: .ci/run installs jq and runs it with --ignored"]
async fn docs_separation_runs_as_written() {
    runs_as_written("separation", SEPARATION, 15).await;
}

#[tokio::test]
#[ignore = "needs curl, jq, openssl and python3: .ci/run installs them and runs it with --ignored"]
async fn docs_password_grant_today_runs_as_written() {
    runs_as_written("password_today", PASSWORD_TODAY, 15).await;
}

/// Runs every `sh` block of `markdown` (which has at least `min_blocks` of them) in one shell
/// against a fresh demo, and checks what each prints against the `text` block after it.
async fn runs_as_written(name: &str, markdown: &str, min_blocks: usize) {
    runs_beside_the_lab(name, markdown, min_blocks, false).await;
}

/// [`runs_as_written`], and with `lab` a lab (`staff-directory lab`) beside the demo, trusting
/// its auth server, at `$LAB` (and wherever the page names its default address).
async fn runs_beside_the_lab(name: &str, markdown: &str, min_blocks: usize, lab: bool) {
    // The demo's own seeding: its fixed clients and users, and the 60 demo staff.
    let auth_db = TestDb::fresh(&format!("{name}_auth")).await;
    let now = crate::support::Clock::now(&crate::support::SystemClock);
    let _db = demo_auth_database(&auth_db.url, now).await;
    let mut settings =
        auth_server::config::Settings::new(auth_db.url.clone(), "127.0.0.1:0".parse().unwrap());
    settings.serve.workers = Some(1);
    let auth = auth_server::startup::Application::build_with_clock(
        settings,
        Arc::new(crate::support::SystemClock),
    )
    .await
    .unwrap();
    let auth_url = auth.issuer().to_owned();
    let auth_handle = auth.handle();
    tokio::spawn(auth.run_until_stopped());
    // A second authorization server on the same database (the same keys, the same issuer)
    // that issues tokens for another API: guide 3's "a real token meant for another API".
    let mut other =
        auth_server::config::Settings::new(auth_db.url.clone(), "127.0.0.1:0".parse().unwrap());
    other.serve.workers = Some(1);
    other.serve.issuer = Some(auth_url.clone());
    other.serve.audience = "urn:example:timetable-api".into();
    let other = auth_server::startup::Application::build_with_clock(
        other,
        Arc::new(crate::support::SystemClock),
    )
    .await
    .unwrap();
    let other_url = format!("http://{}", other.address());
    let other_handle = other.handle();
    tokio::spawn(other.run_until_stopped());
    let api = fresh_api(&auth_url, now, |_| {}).await;
    let lab = if lab {
        Some(start_lab(&auth_url, Arc::new(ManualClock::at(now)), |_| {}).await)
    } else {
        None
    };
    let lab_url = lab
        .as_ref()
        .map_or("http://127.0.0.1:8083".to_owned(), |l| l.base_url.clone());

    let blocks = blocks(markdown);
    assert!(
        blocks.len() >= min_blocks,
        "{name}: the page has its blocks"
    );
    let mut script = String::new();
    for (i, (commands, _)) in blocks.iter().enumerate() {
        // Pages that name the default addresses in their commands are pointed at this demo.
        let commands = commands
            .replace("http://127.0.0.1:8082", &auth_url)
            .replace("http://127.0.0.1:8081", &api.base_url)
            .replace("http://127.0.0.1:8083", &lab_url)
            .replace("http://127.0.0.1:8084", &other_url);
        script.push_str(&format!("echo '@@block {i}@@'\n{commands}\n"));
    }
    let (auth_env, api_env, lab_env, other_env) = (
        auth_url.clone(),
        api.base_url.clone(),
        lab_url.clone(),
        other_url.clone(),
    );
    let workdir = tempfile::tempdir().unwrap();
    let cwd = workdir.path().to_owned();
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new("bash")
            .arg("-c")
            .arg(&script)
            .current_dir(cwd)
            .env("AUTH", auth_env)
            .env("API", api_env)
            .env("LAB", lab_env)
            .env("OTHER_AUTH", other_env)
            .output()
            .expect("bash is needed")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("command not found"),
        "curl, jq and openssl are needed: {stderr}"
    );
    let printed: Vec<&str> = stdout.split("@@block ").skip(1).collect();
    assert_eq!(
        printed.len(),
        blocks.len(),
        "{name}: every block ran: {stderr}"
    );
    for (i, ((commands, expected), out)) in blocks.iter().zip(printed).enumerate() {
        let out = out.split_once("@@\n").map_or("", |(_, rest)| rest);
        if let Some(expected) = expected {
            assert!(
                pattern(expected, &auth_url, &api.base_url, &lab_url).is_match(out.trim_end()),
                "{name}: block {i} printed something else.\ncommands:\n{commands}\nexpected:\n{expected}\nprinted:\n{out}\nstderr:\n{stderr}"
            );
        }
    }
    drop(auth_handle.stop(false));
    drop(other_handle.stop(false));
}

#[tokio::test]
#[ignore = "needs curl, jq, openssl and python3: .ci/run installs them and runs it with --ignored"]
async fn docs_attacks_runs_as_written() {
    runs_beside_the_lab("attacks", ATTACKS, 17, true).await;
}
