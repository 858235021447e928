//! Services run as their own processes by the launcher (`staff-directory auth-server …`), so
//! that they receive real signals.

use std::net::SocketAddr;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::deployment::fresh_connections;
use super::poll::{PATIENCE, poll_until};
use super::seed::TestClient;

/// A service run as its own process by the launcher (`staff-directory auth-server …` and so
/// on). Killed when dropped, so no test leaves a server behind.
pub struct Process {
    /// What it is, for messages.
    pub name: &'static str,
    /// The address it listens on.
    pub address: SocketAddr,
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
}

impl Process {
    /// Starts `staff-directory <args>`, logging JSON, and waits until it says where it listens.
    pub async fn spawn(name: &'static str, args: &[String]) -> Process {
        Self::spawn_with_env(name, args, &[]).await
    }

    /// [`Process::spawn`] with `env` set (and no `MALLOC_ARENA_MAX` of the test's own unless
    /// `env` gives one).
    pub async fn spawn_with_env(
        name: &'static str,
        args: &[String],
        env: &[(&str, &str)],
    ) -> Process {
        let mut child = Command::new(env!("CARGO_BIN_EXE_staff-directory"))
            .args(args)
            .env_remove("MALLOC_ARENA_MAX")
            .envs(env.iter().copied())
            .env("LOG_FORMAT", "json")
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the launcher starts");
        let log = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().unwrap();
        let sink = log.clone();
        std::thread::spawn(move || {
            use std::io::BufRead as _;
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                sink.lock().unwrap().push(line);
            }
        });
        let deadline = Instant::now() + PATIENCE;
        let address = loop {
            let found = log.lock().unwrap().iter().find_map(|line| {
                let v: Value = serde_json::from_str(line).ok()?;
                v["fields"]["address"].as_str()?.parse::<SocketAddr>().ok()
            });
            if let Some(address) = found {
                break address;
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "the {name} exited ({status}) before listening:\n{}",
                    log.lock().unwrap().join("\n")
                );
            }
            assert!(
                Instant::now() < deadline,
                "the {name} never said where it listens:\n{}",
                log.lock().unwrap().join("\n")
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let process = Process {
            name,
            address,
            child,
            log,
        };
        process.wait_ready().await;
        process
    }

    /// `http://` + its address.
    pub fn base(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Waits until `/readyz` answers 200.
    pub async fn wait_ready(&self) {
        let http = fresh_connections();
        let url = format!("{}/readyz", self.base());
        poll_until(&format!("the {} to be ready", self.name), || {
            let (http, url) = (http.clone(), url.clone());
            async move { http.get(&url).send().await.is_ok_and(|r| r.status() == 200) }
        })
        .await;
    }

    /// Sends SIGTERM: a graceful stop.
    pub fn sigterm(&self) {
        self.signal("-TERM");
    }

    /// Sends SIGINT, as Ctrl-C does.
    pub fn sigint(&self) {
        self.signal("-INT");
    }

    fn signal(&self, which: &str) {
        let status = Command::new("kill")
            .args([which, &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill {which} failed");
    }

    /// Sends SIGKILL (`kill -9`) and reaps the process.
    pub fn kill9(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// The exit status, if the process exits within `limit`.
    pub async fn exited_within(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The value of `name` in the environment the process runs with now (as it was when it
    /// last started a program: `/proc/PID/environ`).
    pub fn environment(&self, name: &str) -> Option<String> {
        let all = std::fs::read(format!("/proc/{}/environ", self.child.id())).unwrap();
        all.split(|b| *b == 0).find_map(|pair| {
            let pair = String::from_utf8_lossy(pair);
            let (key, value) = pair.split_once('=')?;
            (key == name).then(|| value.to_owned())
        })
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// Its log so far, one JSON object a line.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        drop(self.child.kill());
        drop(self.child.wait());
    }
}

/// The authorization server on `db_url` as its own process, on `bind` (`127.0.0.1:0` for any
/// port), with `issuer` when given and `extra` arguments of `serve`.
pub async fn spawn_auth(db_url: &str, bind: &str, issuer: Option<&str>, extra: &[&str]) -> Process {
    Process::spawn("auth server", &auth_args(db_url, bind, issuer, extra)).await
}

/// The command line of [`spawn_auth`].
pub fn auth_args(db_url: &str, bind: &str, issuer: Option<&str>, extra: &[&str]) -> Vec<String> {
    let mut args = strings(&[
        "auth-server",
        "--database-url",
        db_url,
        "serve",
        "--bind",
        bind,
        "--workers",
        "2",
    ]);
    if let Some(issuer) = issuer {
        args.extend(strings(&["--issuer", issuer]));
    }
    args.extend(strings(extra));
    args
}

/// The directory API on `db_url` as its own process, trusting `issuer`, with `extra` arguments
/// of `serve`.
pub async fn spawn_api(db_url: &str, bind: &str, issuer: &str, extra: &[&str]) -> Process {
    let mut args = strings(&[
        "directory-api",
        "--database-url",
        db_url,
        "serve",
        "--bind",
        bind,
        "--issuer",
        issuer,
        "--workers",
        "2",
    ]);
    args.extend(strings(extra));
    Process::spawn("directory API", &args).await
}

/// The website as its own process, as the `directory-web` client `web`, on `bind`.
pub async fn spawn_web(
    api_url: &str,
    issuer: &str,
    web: &TestClient,
    bind: &str,
    extra: &[&str],
) -> Process {
    let mut args = strings(&[
        "directory-web",
        "--bind",
        bind,
        "--api-url",
        api_url,
        "--issuer",
        issuer,
        "--client-id",
        &web.id,
        // One argument: a generated secret may begin with '-', which clap would read as a flag.
        &format!("--client-secret={}", web.secret),
        "--workers",
        "2",
    ]);
    args.extend(strings(extra));
    Process::spawn("website", &args).await
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| (*s).to_owned()).collect()
}
