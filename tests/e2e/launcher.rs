//! `cargo run` itself: the demo binary starts the three services, seeds its data folder on first
//! start only, prints the addresses and the demo sign-ins, stops cleanly on Ctrl-C, and keeps
//! what a user changed across a restart.

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::header;

/// The demo binary, running on port 0 with its data under `data_dir`.
struct Demo {
    child: Child,
    banner: String,
    lines: mpsc::Receiver<String>,
    web: String,
    api: String,
    auth: String,
}

impl Demo {
    /// Starts the demo and reads its banner, up to the last demo sign-in it prints.
    fn start(data_dir: &std::path::Path) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_staff-directory"))
            .arg("--data-dir")
            .arg(data_dir)
            .args(["--auth-bind", "127.0.0.1:0"])
            .args(["--api-bind", "127.0.0.1:0"])
            .args(["--web-bind", "127.0.0.1:0"])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the demo binary starts");
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        let mut banner = String::new();
        while !banner.contains("staff user       bokafor") {
            let line = lines
                .recv_timeout(Duration::from_secs(60))
                .unwrap_or_else(|_| panic!("the demo printed no banner; so far:\n{banner}"));
            banner.push_str(&line);
            banner.push('\n');
        }
        let address = |label: &str| -> String {
            let line = banner
                .lines()
                .find(|l| l.trim_start().starts_with(label))
                .unwrap_or_else(|| panic!("no {label} in the banner:\n{banner}"));
            line.split_whitespace()
                .find(|w| w.starts_with("http://"))
                .unwrap()
                .to_owned()
        };
        let (web, api, auth) = (
            address("website"),
            address("directory API"),
            address("auth server"),
        );
        Self {
            child,
            banner,
            lines,
            web,
            api,
            auth,
        }
    }

    /// Ctrl-C: the process must stop by itself, successfully, saying so.
    fn interrupt(mut self) {
        let status = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let mut rest = String::new();
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(30)) {
            rest.push_str(&line);
            rest.push('\n');
        }
        let exit = self.child.wait().unwrap();
        assert!(exit.success(), "the demo exits cleanly on Ctrl-C: {exit}");
        assert_eq!(rest.trim(), "stopped");
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        drop(self.child.kill());
        drop(self.child.wait());
    }
}

/// Alice's password-grant access token, from the demo's auth server.
async fn alice_token(http: &reqwest::Client, demo: &Demo) -> String {
    let r = http
        .post(format!("{}/oauth/token", demo.auth))
        .basic_auth("directory-web", Some("directory-web-demo-secret"))
        .form(&[
            ("grant_type", "password"),
            ("username", "ajohnson"),
            ("password", "lincoln-demo-1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn alice_record(http: &reqwest::Client, demo: &Demo, token: &str) -> (String, Value) {
    let r = http
        .request(Method::GET, format!("{}/me", demo.api))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let etag = header(&r, "etag").unwrap().to_owned();
    (etag, r.json().await.unwrap())
}

async fn home_page(http: &reqwest::Client, demo: &Demo) -> String {
    let r = http.get(&demo.web).send().await.unwrap();
    assert_eq!(r.status(), 200);
    r.text().await.unwrap()
}

#[tokio::test]
async fn cargo_run_serves_the_seeded_demo_and_keeps_changes_across_a_restart() {
    let data = tempfile::tempdir().unwrap();
    let http = reqwest::Client::new();

    // First start: the data folder is created, migrated and seeded, and the banner says where
    // everything is and how to sign in.
    let demo = Demo::start(data.path());
    for expected in [
        "Staff Directory demo is running. Press Ctrl-C to stop.",
        "web app client   directory-web  /  directory-web-demo-secret",
        "HR import client hr-sync  /  hr-sync-demo-secret",
        "staff user       ajohnson  /  lincoln-demo-1",
        "staff user       bokafor  /  lincoln-demo-2",
    ] {
        assert!(
            demo.banner.contains(expected),
            "{expected}:\n{}",
            demo.banner
        );
    }
    assert!(data.path().join("auth.db").exists() && data.path().join("directory.db").exists());
    let home = home_page(&http, &demo).await;
    assert!(home.contains("Dr Alice Johnson") && home.contains("60 people"));

    // Alice changes her bio with her own token.
    let token = alice_token(&http, &demo).await;
    let (etag, record) = alice_record(&http, &demo, &token).await;
    let r = http
        .request(
            Method::PATCH,
            format!("{}/staff/{}", demo.api, record["id"]),
        )
        .bearer_auth(&token)
        .header("If-Match", etag)
        .json(&json!({"bio": "Written before a restart."}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    demo.interrupt();

    // Second start on the same folder: nothing is seeded twice and nothing is overwritten.
    let demo = Demo::start(data.path());
    let home = home_page(&http, &demo).await;
    assert!(
        home.contains("60 people"),
        "seeding only adds what is missing"
    );
    let token = alice_token(&http, &demo).await;
    let (_, record) = alice_record(&http, &demo, &token).await;
    assert_eq!(record["bio"], "Written before a restart.");
    demo.interrupt();
}
