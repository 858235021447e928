//! The hashing threads: a fast path kept because it was measured. Every password hash of a
//! sign-in runs on a small pool of dedicated threads, one per allowed concurrent hash, at
//! `SCHED_IDLE` priority, behind a bounded queue. The Argon2id itself is [`super::password`].
//!
//! Why, with the figures of `docs/performance.md` (2 vCPUs, Argon2id m = 19 MiB, t = 2):
//!
//! - **Idle priority.** A flood of sign-ins queues for these threads and cannot starve the
//!   HTTP workers: beside saturated hashing, `GET /healthz` kept 78% of its throughput (median
//!   0.43 → 0.56 ms) while sign-ins slowed to 14% of the hashing ceiling. Sign-ins alone reach
//!   138 per second, 89% of raw Argon2 on two threads (155.5 per second). The tail (p99 3.4×
//!   unloaded) is the VM's: two spinning idle threads with no Argon2 cost 2.0–3.7×.
//! - **Threads that keep their memory.** Each thread keeps its 19 MiB Argon2 buffer for its
//!   whole life. Giving it back after each burst made glibc hand out a fresh region again and
//!   again (it raises its mmap threshold after the first free): the auth server reached 358 MB
//!   under the soak and was still growing (+231 MB); with the buffers kept it stays at
//!   60.5 MB, flat.
//! - **Admission, shedding, skipping.** A sign-in first takes a place ([`HashingPool::admit`],
//!   `concurrency + queue` places, 66 on two CPUs by default), before anything is counted or
//!   written for it. When every place is taken it is refused at once ([`Busy`], answered 503
//!   with `Retry-After`), having changed nothing: of a burst of 1,000 sign-ins at once, 934
//!   were shed with a p99 of 106 ms (0.9× the same burst of `client_credentials` requests) and
//!   a real user signed in 22 ms after it. Without the bound all 1,000 would have queued, the
//!   last for about 10 s, each holding a connection and a throttle row. A queued hash whose
//!   requester has gone (the client hung up, the handler was dropped) is skipped rather than
//!   computed for nobody.
//!
//! The three branches (admitted, shed, skipped) are tested below.

use std::sync::Arc;

use anyhow::Context as _;
use secrecy::{ExposeSecret as _, SecretString};
use service_kit::liveness::Liveness;

use super::password::{hash_now, verify_now};

type Job = Box<dyn FnOnce() + Send>;

/// Every place in the hashing queue is taken: the sign-in was not attempted and may be
/// retried shortly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many password hashes are waiting")]
pub struct Busy;

/// What happened to hashes that did not run, as metrics (the counters are shared handles).
#[derive(Debug, Clone, Default)]
pub struct QueueStats {
    /// Hashes refused because the queue was full.
    pub shed: prometheus_client::metrics::counter::Counter,
    /// Queued hashes skipped because their requester had gone.
    pub skipped: prometheus_client::metrics::counter::Counter,
}

/// Hashes and verifies passwords on dedicated low-priority threads, `concurrency` at a time.
#[derive(Clone)]
pub struct HashingPool {
    jobs: flume::Sender<Job>,
    /// Places for verifications running or waiting: `concurrency + queue`.
    places: Arc<tokio::sync::Semaphore>,
    stats: QueueStats,
    /// A hash of a random password with the same parameters, verified against when the
    /// username is unknown, so that an unknown user costs exactly one hash too.
    dummy_hash: Arc<str>,
}

/// A place in the hashing queue, held from admission until the hash has run or been skipped.
#[derive(Debug)]
#[must_use = "a place is used by passing it to verify()"]
pub struct Admission {
    _place: tokio::sync::OwnedSemaphorePermit,
}

impl std::fmt::Debug for HashingPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HashingPool")
            .field("queued", &self.jobs.len())
            .finish_non_exhaustive()
    }
}

/// Lowers the calling thread's priority to `SCHED_IDLE`: it runs only when no normal thread
/// wants the CPU, so HTTP workers always go first and a flood of sign-ins cannot slow other
/// requests down. Under full load from other requests sign-ins wait, which is the intent.
pub fn lower_priority() {
    use thread_priority::{
        NormalThreadSchedulePolicy, ThreadPriority, ThreadSchedulePolicy,
        set_thread_priority_and_policy, thread_native_id,
    };
    let result = set_thread_priority_and_policy(
        thread_native_id(),
        ThreadPriority::Min,
        ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Idle),
    );
    if let Err(e) = result {
        tracing::warn!(error = ?e, "could not lower the priority of a password-hashing thread");
    }
}

impl HashingPool {
    /// A pool with `concurrency` dedicated threads (at least one) and room for `queue`
    /// hashes waiting for them (at least one). The threads end when the last clone of the
    /// pool is dropped.
    pub async fn new(concurrency: usize, queue: usize, stats: QueueStats) -> anyhow::Result<Self> {
        let concurrency = concurrency.max(1);
        let places = Arc::new(tokio::sync::Semaphore::new(concurrency + queue.max(1)));
        // Unbounded as a channel: what may wait in it is bounded by the places above (and by
        // the administrator's own `user` commands, which take none).
        let (jobs, queue) = flume::unbounded::<Job>();
        for i in 0..concurrency {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || {
                    lower_priority();
                    // The thread keeps its working memory for its whole life (see the
                    // module's documentation).
                    while let Ok(job) = queue.recv() {
                        job();
                    }
                })
                .context("cannot start a password-hashing thread")?;
        }
        let mut pool = Self {
            jobs,
            places,
            stats,
            dummy_hash: Arc::from(""),
        };
        let dummy = super::secrets::random_token();
        pool.dummy_hash = pool.run(move || hash_now(&dummy)).await?.into();
        Ok(pool)
    }

    /// Hashes a new password (the caller has checked the policy).
    pub async fn hash(&self, password: &SecretString) -> anyhow::Result<String> {
        let password = password.clone();
        self.run(move || hash_now(password.expose_secret())).await
    }

    /// A place for one verification, or [`Busy`] (counted as shed) when all are taken. Taken
    /// before anything else is done for a sign-in, so that a refused one changes nothing.
    pub fn admit(&self) -> Result<Admission, Busy> {
        match self.places.clone().try_acquire_owned() {
            Ok(permit) => Ok(Admission { _place: permit }),
            Err(_) => {
                self.stats.shed.inc();
                Err(Busy)
            }
        }
    }

    /// Verifies `password` against `stored` (a PHC string), or against the dummy hash when
    /// the user is unknown, in which case the answer is always `false`, in the place
    /// `admission` holds. When `requester` has hung up by the time a thread is free, the hash
    /// is skipped (an error nobody reads).
    pub async fn verify(
        &self,
        admission: Admission,
        password: &SecretString,
        stored: Option<&str>,
        requester: Option<&Liveness>,
    ) -> anyhow::Result<bool> {
        let password = password.clone();
        let known = stored.is_some();
        let phc: Arc<str> = stored
            .map(Arc::from)
            .unwrap_or_else(|| self.dummy_hash.clone());
        let ok = self
            .run_for(Some(admission), requester.cloned(), move || {
                verify_now(password.expose_secret(), &phc)
            })
            .await?;
        Ok(ok && known)
    }

    /// Counts of shed and skipped hashes since the start.
    pub fn stats(&self) -> &QueueStats {
        &self.stats
    }

    /// Runs `f` on a hashing thread, outside the admitted places (start-up, administration).
    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
    ) -> anyhow::Result<T> {
        self.run_for(None, None, f).await
    }

    /// Runs `f` on a hashing thread for `requester`, unless it has gone by then; `admission`
    /// is given back when the job has run or been skipped.
    async fn run_for<T: Send + 'static>(
        &self,
        admission: Option<Admission>,
        requester: Option<Liveness>,
        f: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
    ) -> anyhow::Result<T> {
        let (done, result) = tokio::sync::oneshot::channel();
        let stats = self.stats.clone();
        let job: Job = Box::new(move || {
            // The requester has gone (the handler was dropped, or the client closed the
            // connection): nobody would read the answer.
            if done.is_closed() || requester.is_some_and(|r| r.hung_up()) {
                drop(admission);
                stats.skipped.inc();
                return;
            }
            let outcome = f();
            // The place is given back before the answer is sent, so that whoever receives
            // the answer already sees the place free again.
            drop(admission);
            drop(done.send(outcome));
        });
        self.jobs
            .send(job)
            .map_err(|_| anyhow::anyhow!("the password-hashing threads have stopped"))?;
        result.await.context("a password-hashing thread failed")?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Occupies the pool's only thread until the returned sender is used or dropped.
    async fn hold_the_thread(
        p: &HashingPool,
    ) -> (
        std::sync::mpsc::Sender<()>,
        tokio::task::JoinHandle<anyhow::Result<bool>>,
    ) {
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let (running, started) = std::sync::mpsc::channel::<()>();
        let place = p.admit().unwrap();
        let blocker = tokio::spawn({
            let p = p.clone();
            async move {
                p.run_for(Some(place), None, move || {
                    running.send(()).ok();
                    Ok(wait.recv().is_ok())
                })
                .await
            }
        });
        while started.try_recv().is_err() {
            tokio::task::yield_now().await;
        }
        (release, blocker)
    }

    #[tokio::test]
    async fn an_admitted_hash_runs_and_gives_its_place_back() {
        let p = HashingPool::new(1, 4, QueueStats::default()).await.unwrap();
        let hash = p.hash(&SecretString::from("pw-correct")).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        let verify = |password: &'static str, stored: Option<String>| {
            let p = p.clone();
            async move {
                let place = p.admit().unwrap();
                p.verify(
                    place,
                    &SecretString::from(password),
                    stored.as_deref(),
                    None,
                )
                .await
                .unwrap()
            }
        };
        assert!(verify("pw-correct", Some(hash.clone())).await);
        assert!(!verify("pw-correct ", Some(hash)).await);
        // An unknown user costs a hash and is never accepted.
        assert!(!verify("pw-correct", None).await);
        assert_eq!(p.places.available_permits(), 5);
        assert_eq!(p.stats().shed.get(), 0);
        assert_eq!(p.stats().skipped.get(), 0);
    }

    #[tokio::test]
    async fn a_full_queue_sheds_at_once_without_queueing_anything() {
        // One thread, two places to wait: three places in all.
        let p = HashingPool::new(1, 2, QueueStats::default()).await.unwrap();
        let (release, blocker) = hold_the_thread(&p).await;
        let waiting = [p.admit().unwrap(), p.admit().unwrap()];
        assert_eq!(p.admit().unwrap_err(), Busy);
        assert_eq!(p.stats().shed.get(), 1);
        assert!(p.jobs.is_empty());
        drop(waiting);
        release.send(()).unwrap();
        assert!(blocker.await.unwrap().unwrap());
        assert_eq!(p.places.available_permits(), 3);
    }

    #[tokio::test]
    async fn hashes_whose_requesters_have_gone_are_skipped() {
        let p = HashingPool::new(1, 2, QueueStats::default()).await.unwrap();
        let (release, blocker) = hold_the_thread(&p).await;
        // Two wait in the queue; their requesters go away.
        let mut queued = Vec::new();
        for _ in 0..2 {
            let p = p.clone();
            let place = p.admit().unwrap();
            queued.push(tokio::spawn(async move {
                p.verify(place, &SecretString::from("x"), None, None).await
            }));
        }
        while p.jobs.len() < 2 {
            tokio::task::yield_now().await;
        }
        for q in &queued {
            q.abort();
        }
        for q in queued {
            let _ = q.await;
        }
        release.send(()).unwrap();
        assert!(blocker.await.unwrap().unwrap());
        // The two abandoned hashes are skipped, not computed, and their places given back.
        while p.stats().skipped.get() < 2 {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        let place = p.admit().unwrap();
        assert!(
            p.verify(place, &SecretString::from("x"), None, None)
                .await
                .is_ok()
        );
        assert_eq!(p.places.available_permits(), 3);
    }
}
