//! `docs/2-walkthrough.md` runs as written: every `sh` block is executed in order, in one shell,
//! against a fresh demo (seeded exactly as `cargo run` seeds it), and what each block prints must
//! match the `text` block after it, where `…` stands for anything. The page cannot go stale.
//!
//! It needs `curl` and `jq`; `cargo test` lists it as ignored, `.ci/run` installs `jq` and runs it.

use std::sync::Arc;

use crate::harness::*;

const WALKTHROUGH: &str = include_str!("../../docs/2-walkthrough.md");

/// The `sh` blocks, each with the `text` block that follows it, if any.
fn blocks(markdown: &str) -> Vec<(String, Option<String>)> {
    let mut out: Vec<(String, Option<String>)> = Vec::new();
    let mut lines = markdown.lines();
    while let Some(line) = lines.next() {
        let fence = line.trim_end();
        if fence != "```sh" && fence != "```text" {
            continue;
        }
        let body: Vec<&str> = lines
            .by_ref()
            .take_while(|l| l.trim_end() != "```")
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
fn pattern(expected: &str, auth: &str, api: &str) -> regex::Regex {
    let expected = expected
        .replace("http://127.0.0.1:8082", auth)
        .replace("http://127.0.0.1:8081", api);
    let parts: Vec<String> = expected.trim_end().split('…').map(regex::escape).collect();
    regex::Regex::new(&format!("(?s)^{}$", parts.join(".*?"))).unwrap()
}

#[tokio::test]
#[ignore = "needs curl and jq: .ci/run installs jq and runs it with --ignored"]
async fn docs_walkthrough_runs_as_written() {
    // The demo's own seeding: its fixed clients and users, and the 60 demo staff.
    let auth_db = TestDb::fresh("walkthrough_auth").await;
    let db = auth_server::store::Db::connect(&auth_db.url).await.unwrap();
    db.migrate().await.unwrap();
    let now = auth_server::clock::Clock::now(&auth_server::clock::SystemClock);
    staff_directory::demo::seed_auth(&db, now).await.unwrap();
    let mut settings =
        auth_server::config::Settings::new(auth_db.url.clone(), "127.0.0.1:0".parse().unwrap());
    settings.serve.workers = Some(1);
    let auth = auth_server::startup::Application::build_with_clock(
        settings,
        Arc::new(auth_server::clock::SystemClock),
    )
    .await
    .unwrap();
    let auth_url = auth.issuer().to_owned();
    let auth_handle = auth.handle();
    tokio::spawn(auth.run_until_stopped());
    let api = start_api(&auth_url, now, |_| {}).await;

    let blocks = blocks(WALKTHROUGH);
    assert!(blocks.len() >= 10, "the walkthrough has its blocks");
    let mut script = String::new();
    for (i, (commands, _)) in blocks.iter().enumerate() {
        script.push_str(&format!("echo '@@block {i}@@'\n{commands}\n"));
    }
    let (auth_env, api_env) = (auth_url.clone(), api.base.clone());
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new("bash")
            .arg("-c")
            .arg(&script)
            .env("AUTH", auth_env)
            .env("API", api_env)
            .output()
            .expect("bash is needed")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("command not found"),
        "curl and jq are needed: {stderr}"
    );
    let printed: Vec<&str> = stdout.split("@@block ").skip(1).collect();
    assert_eq!(printed.len(), blocks.len(), "every block ran: {stderr}");
    for (i, ((commands, expected), out)) in blocks.iter().zip(printed).enumerate() {
        let out = out.split_once("@@\n").map_or("", |(_, rest)| rest);
        if let Some(expected) = expected {
            assert!(
                pattern(expected, &auth_url, &api.base).is_match(out.trim_end()),
                "block {i} printed something else.\ncommands:\n{commands}\nexpected:\n{expected}\nprinted:\n{out}\nstderr:\n{stderr}"
            );
        }
    }
    drop(auth_handle.stop(false));
}
