//! The services' log lines captured in this process, as JSON records, for the tests that
//! check what is logged.

use std::sync::{Mutex, OnceLock};

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
