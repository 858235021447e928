//! A round-robin client with readiness checks: a load balancer in front of several instances.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::task::JoinHandle;

use super::deployment::fresh_connections;

/// A client in front of several instances of a service, as a load balancer is: it checks each
/// instance's `/readyz` every 100 ms and sends each request to the next ready instance; when a
/// connection is refused (nothing was sent) it tries the next one. Any other error is returned:
/// it would have reached a user.
pub struct RoundRobin {
    backends: Vec<String>,
    ready: Arc<Vec<AtomicBool>>,
    next: AtomicUsize,
    http: reqwest::Client,
    checks: JoinHandle<()>,
}

impl RoundRobin {
    /// A balancer over `backends` (base URLs), checking their readiness from now on.
    pub fn new(backends: Vec<String>) -> RoundRobin {
        let ready: Arc<Vec<AtomicBool>> =
            Arc::new(backends.iter().map(|_| AtomicBool::new(true)).collect());
        let checks = {
            let (ready, backends) = (ready.clone(), backends.clone());
            let http = reqwest::Client::builder()
                .pool_max_idle_per_host(0)
                .timeout(Duration::from_secs(2))
                .build()
                .unwrap();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_millis(100));
                loop {
                    tick.tick().await;
                    for (i, base) in backends.iter().enumerate() {
                        let up = http
                            .get(format!("{base}/readyz"))
                            .send()
                            .await
                            .is_ok_and(|r| r.status() == 200);
                        ready[i].store(up, Ordering::Relaxed);
                    }
                }
            })
        };
        RoundRobin {
            backends,
            ready,
            next: AtomicUsize::new(0),
            http: fresh_connections(),
            checks,
        }
    }

    /// Sends the request `build` makes for a base URL; the index of the instance that answered,
    /// and its answer.
    pub async fn send(
        &self,
        build: impl Fn(&reqwest::Client, &str) -> reqwest::RequestBuilder,
    ) -> Result<(usize, reqwest::Response), String> {
        let n = self.backends.len();
        let first = self.next.fetch_add(1, Ordering::Relaxed);
        let mut refused = Vec::new();
        for attempt in 0..n * 3 {
            let i = (first + attempt) % n;
            // First the ready instances; then, if none would take it, any.
            if attempt < n && !self.ready[i].load(Ordering::Relaxed) {
                continue;
            }
            match build(&self.http, &self.backends[i]).send().await {
                Ok(response) => return Ok((i, response)),
                Err(e) if e.is_connect() => {
                    refused.push(format!("{}: {e}", self.backends[i]));
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => return Err(format!("{}: {e:?}", self.backends[i])),
            }
        }
        Err(format!("every instance refused: {refused:?}"))
    }
}

impl Drop for RoundRobin {
    fn drop(&mut self) {
        self.checks.abort();
    }
}
