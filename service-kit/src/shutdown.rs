//! How a service stops. SIGTERM first drains, when a drain time is configured: readiness
//! (`/readyz`) answers 503 so that load balancers stop sending new requests, while everything is
//! still served; then the server stops gracefully: the listener closes, requests in flight get
//! the server's shutdown timeout, the database pool is closed. Ctrl-C (SIGINT) and SIGQUIT stop
//! at once.
//!
//! Without the drain, connections that a load balancer opened just before the listener closed
//! (still in the kernel's accept queue) would be reset, failing their requests.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// How long requests in flight may take to finish once a stop has begun, in seconds.
pub const SHUTDOWN_TIMEOUT_SECS: u64 = 10;

/// Serves `server` until it stops: on SIGTERM after draining for `drain_for` (see
/// [`stop_on_signal`]), then gracefully within [`SHUTDOWN_TIMEOUT_SECS`]; on Ctrl-C at once.
/// The server must be built with `.disable_signals()`, so that only this decides.
pub async fn serve(
    server: actix_web::dev::Server,
    draining: Draining,
    drain_for: Duration,
) -> std::io::Result<()> {
    let handle = server.handle();
    let signals = tokio::spawn(stop_on_signal(draining, drain_for, move |graceful| {
        handle.stop(graceful)
    }));
    let result = server.await;
    signals.abort();
    result
}

/// Whether the service is draining before it stops; shared with its readiness check.
#[derive(Debug, Clone, Default)]
pub struct Draining(Arc<AtomicBool>);

impl Draining {
    /// Whether a stop has begun: readiness must then answer 503.
    pub fn is_draining(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    fn start(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Waits for SIGTERM, SIGINT or SIGQUIT and stops the server through `stop(graceful)`: on
/// SIGTERM after draining for `drain_for` (cut short by SIGINT or SIGQUIT), then gracefully;
/// on the others at once.
pub async fn stop_on_signal<F, Fut>(draining: Draining, drain_for: Duration, stop: F)
where
    F: FnOnce(bool) -> Fut,
    Fut: Future<Output = ()>,
{
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int), Ok(mut quit)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
        signal(SignalKind::quit()),
    ) else {
        tracing::error!("cannot listen for stop signals; stop the process with SIGKILL");
        return;
    };
    tokio::select! {
        _ = term.recv() => {
            draining.start();
            if !drain_for.is_zero() {
                tracing::info!(
                    seconds = drain_for.as_secs(),
                    "SIGTERM: draining (not ready, still serving) before stopping"
                );
                // An operator's Ctrl-C or SIGQUIT cuts the drain short.
                tokio::select! {
                    () = tokio::time::sleep(drain_for) => {}
                    _ = int.recv() => {
                        tracing::info!("SIGINT while draining: stopping now");
                        stop(false).await;
                        return;
                    }
                    _ = quit.recv() => {
                        tracing::info!("SIGQUIT while draining: stopping now");
                        stop(false).await;
                        return;
                    }
                }
            }
            tracing::info!("stopping gracefully: no new connections, requests in flight finish");
            stop(true).await;
        }
        _ = int.recv() => {
            tracing::info!("SIGINT: stopping now");
            stop(false).await;
        }
        _ = quit.recv() => {
            tracing::info!("SIGQUIT: stopping now");
            stop(false).await;
        }
    }
}
