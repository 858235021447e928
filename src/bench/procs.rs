//! The services under test as separate processes of this binary (`staff-directory auth-server
//! serve …` and the like), as they run in production: each has its own workers and its own
//! memory, which the soak reads from `/proc`.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// How long a service may take to answer its readiness check after it was started.
const READY_WITHIN: Duration = Duration::from_secs(60);
/// How long a service may take to stop after SIGTERM before it is killed.
const STOP_WITHIN: Duration = Duration::from_secs(15);

/// A service running as a child process.
#[derive(Debug)]
pub struct Service {
    /// Its name in the table and in messages.
    pub name: &'static str,
    /// Its base URL, such as `http://127.0.0.1:40123`.
    pub base: String,
    child: tokio::process::Child,
    pid: Pid,
}

/// A free port on the loopback interface, chosen by the kernel.
pub fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0))?;
    Ok(listener.local_addr()?.port())
}

impl Service {
    /// Starts `staff-directory ARGS…` with `envs`, logging warnings only to `log_dir/NAME.log`,
    /// and waits until `GET {base}/readyz` answers 200.
    pub async fn start(
        name: &'static str,
        port: u16,
        args: &[String],
        envs: &[(&str, &str)],
        log_dir: &Path,
    ) -> anyhow::Result<Self> {
        let exe = std::env::current_exe().context("cannot find this program's own path")?;
        let log_path = log_dir.join(format!("{name}.log"));
        let log = std::fs::File::create(&log_path)
            .with_context(|| format!("cannot create {}", log_path.display()))?;
        let mut command = tokio::process::Command::new(exe);
        command
            .args(args)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true);
        for (key, value) in envs {
            command.env(key, value);
        }
        let child = command
            .spawn()
            .with_context(|| format!("cannot start the {name}"))?;
        let pid = child
            .id()
            .and_then(|id| i32::try_from(id).ok())
            .map(Pid::from_raw)
            .with_context(|| format!("the {name} exited at once"))?;
        let mut service = Self {
            name,
            base: format!("http://127.0.0.1:{port}"),
            child,
            pid,
        };
        service.wait_ready(&log_path).await?;
        Ok(service)
    }

    async fn wait_ready(&mut self, log_path: &Path) -> anyhow::Result<()> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()?;
        let url = format!("{}/readyz", self.base);
        let deadline = Instant::now() + READY_WITHIN;
        loop {
            if let Some(status) = self.child.try_wait()? {
                let log = std::fs::read_to_string(log_path).unwrap_or_default();
                anyhow::bail!(
                    "the {} exited ({status}) before it was ready:\n{log}",
                    self.name
                );
            }
            if let Ok(response) = http.get(&url).send().await
                && response.status().is_success()
            {
                return Ok(());
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "the {} was not ready within {} s (log: {})",
                self.name,
                READY_WITHIN.as_secs(),
                log_path.display()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Resident memory now, in bytes (`VmRSS` of `/proc/PID/status`).
    pub fn resident_bytes(&self) -> anyhow::Result<u64> {
        resident_bytes(self.pid)
    }

    /// Stops the service with SIGTERM, as an orchestrator would, and waits for it.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        sigterm(&self.child, self.name)?;
        stopped(&mut self.child, self.name).await
    }
}

/// Sends SIGTERM to `child`, as an orchestrator would.
pub fn sigterm(child: &tokio::process::Child, name: &str) -> anyhow::Result<()> {
    let pid = child
        .id()
        .and_then(|id| i32::try_from(id).ok())
        .with_context(|| format!("the {name} has already exited"))?;
    kill(Pid::from_raw(pid), Signal::SIGTERM)
        .with_context(|| format!("cannot send SIGTERM to the {name}"))
}

/// Waits for `child` to exit with success after SIGTERM; kills it after [`STOP_WITHIN`].
pub async fn stopped(child: &mut tokio::process::Child, name: &str) -> anyhow::Result<()> {
    match tokio::time::timeout(STOP_WITHIN, child.wait()).await {
        Ok(status) => {
            let status = status?;
            anyhow::ensure!(status.success(), "the {name} stopped with {status}");
            Ok(())
        }
        Err(_) => {
            child.kill().await?;
            anyhow::bail!(
                "the {name} did not stop within {} s of SIGTERM",
                STOP_WITHIN.as_secs()
            )
        }
    }
}

/// Resident memory of process `pid`, in bytes.
pub fn resident_bytes(pid: Pid) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("cannot read the status of process {pid}"))?;
    let kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .with_context(|| format!("process {pid} reports no VmRSS"))?;
    Ok(kib * 1024)
}
