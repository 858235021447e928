//! Waiting for something to become true, without a fixed sleep.

use std::time::{Duration, Instant};

/// How long anything in these tests may take to become true on a loaded two-core machine.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// Polls `check` every 50 ms until it holds (true) or `within` passes (false).
pub async fn poll_within<F, Fut>(within: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    loop {
        if check().await {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Polls `check` until it holds, failing the test after [`PATIENCE`].
pub async fn poll_until<F, Fut>(what: &str, check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    assert!(
        poll_within(PATIENCE, check).await,
        "gave up waiting for {what}"
    );
}
