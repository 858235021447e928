//! Support for the operations tests: log lines captured in this process, raw TCP clients
//! that stall, and an address where nothing listens.

use std::io::Write as _;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// Log lines kept by the capturing subscriber: only those that mention a test's marker.
static CAPTURED: Mutex<Vec<String>> = Mutex::new(Vec::new());
static INSTALLED: OnceLock<()> = OnceLock::new();

/// Every captured line must contain this, so that the other tests' log lines are dropped.
pub const MARKER: &str = "ops-rid-";

struct CaptureWriter(Vec<u8>);

impl std::io::Write for CaptureWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for CaptureWriter {
    fn drop(&mut self) {
        let text = String::from_utf8_lossy(&self.0);
        let mut captured = CAPTURED.lock().unwrap_or_else(|p| p.into_inner());
        for line in text.lines().filter(|l| l.contains(MARKER)) {
            captured.push(line.to_owned());
        }
    }
}

/// Installs (once) a global subscriber writing the services' log lines as JSON — the
/// services' own `LOG_FORMAT=json` format — into memory, every span's fields included.
pub fn capture_logs() {
    INSTALLED.get_or_init(|| {
        let filter = tracing_subscriber::EnvFilter::new(
            "warn,auth_server=debug,directory_api=debug,directory_web=debug,service_kit=debug",
        );
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .with_env_filter(filter)
            .with_writer(|| CaptureWriter(Vec::new()))
            .finish();
        tracing::subscriber::set_global_default(subscriber)
            .expect("no other test installs a global subscriber");
    });
}

/// The captured JSON log records whose text contains `needle`.
pub fn logged_with(needle: &str) -> Vec<serde_json::Value> {
    CAPTURED
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .filter(|l| l.contains(needle))
        .map(|l| serde_json::from_str(l).expect("each captured line is one JSON record"))
        .collect()
}

/// Polls `condition` every 50 ms until it holds or `within` passes.
pub async fn eventually(within: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if condition() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A loopback address where nothing listens (bound, then released).
pub fn dead_address() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{address}")
}

/// What a stalling client saw: everything the server sent, whether it then closed the
/// connection, and how long that took.
pub struct Stalled {
    pub answer: String,
    pub closed: bool,
    pub elapsed: Duration,
}

/// Opens a connection to `base` (`http://host:port`), sends `head` (and nothing after it),
/// then reads until the server closes the connection or `bound` passes.
pub async fn stall_after(base: &str, head: &str, bound: Duration) -> Stalled {
    let address = base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.flush().await.unwrap();
    let start = Instant::now();
    let mut answer = Vec::new();
    let mut closed = false;
    let mut buf = [0u8; 4096];
    while start.elapsed() < bound {
        let left = bound.saturating_sub(start.elapsed());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => {
                closed = true;
                break;
            }
            Ok(Ok(n)) => answer.extend_from_slice(&buf[..n]),
            Err(_) => break,
        }
    }
    Stalled {
        answer: String::from_utf8_lossy(&answer).into_owned(),
        closed,
        elapsed: start.elapsed(),
    }
}

/// A body of `n` bytes of `a=xxxx…` form data.
pub fn big_form(n: usize) -> String {
    let mut body = String::from("a=");
    body.push_str(&"x".repeat(n));
    body
}

/// Writes `text` to a new file in `dir` and returns its path.
pub fn file_with(dir: &tempfile::TempDir, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.path().join(name);
    let mut f = std::fs::File::create(&path).unwrap();
    f.write_all(text.as_bytes()).unwrap();
    path
}
