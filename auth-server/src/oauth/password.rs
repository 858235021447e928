//! Users' passwords: Argon2id with OWASP's parameters, computed on a small pool of dedicated
//! threads, one per allowed concurrent hash, that run at a lower scheduling priority than the
//! HTTP workers: a flood of sign-ins queues for those threads and cannot starve other requests.
//!
//! The queue is bounded by admission: a sign-in first takes a place ([`Passwords::admit`]),
//! before anything is counted or written for it; when every place is taken it is refused at
//! once ([`Busy`], answered 503 with `Retry-After`), having changed nothing, instead of waiting
//! behind work it could never catch up with. A queued hash whose requester has gone (the client
//! disconnected, the handler was dropped) is skipped rather than computed for nobody.

use std::sync::Arc;

use anyhow::Context as _;
use std::cell::RefCell;

use argon2::password_hash::{PasswordHash, PasswordHasher as _, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use rand::rngs::OsRng;
use secrecy::{ExposeSecret as _, SecretString};
use service_kit::liveness::Liveness;
use subtle::ConstantTimeEq as _;

/// The longest password accepted, in bytes; longer ones are refused before any hashing
/// (the "long password denial of service" of OWASP's Authentication Cheat Sheet).
pub const MAX_PASSWORD_BYTES: usize = 1024;
/// The shortest password a user may be given (ASVS 6.2.1).
pub const MIN_PASSWORD_CHARS: usize = 8;

/// Why a new password was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordPolicyError {
    /// Fewer than [`MIN_PASSWORD_CHARS`] characters.
    #[error("a password needs at least {MIN_PASSWORD_CHARS} characters")]
    TooShort,
    /// More than [`MAX_PASSWORD_BYTES`] bytes.
    #[error("a password may have at most {MAX_PASSWORD_BYTES} bytes")]
    TooLong,
}

/// Checks a new password against the policy: length only, no composition rules, no trimming.
pub fn check_new_password(password: &str) -> Result<(), PasswordPolicyError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        Err(PasswordPolicyError::TooShort)
    } else if password.len() > MAX_PASSWORD_BYTES {
        Err(PasswordPolicyError::TooLong)
    } else {
        Ok(())
    }
}

/// Argon2id, m = 19456 KiB, t = 2, p = 1: the OWASP Password Storage Cheat Sheet minimum.
fn argon2() -> anyhow::Result<Argon2<'static>> {
    let params =
        Params::new(19_456, 2, 1, None).map_err(|e| anyhow::anyhow!("argon2 params: {e}"))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

fn hash_blocking(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    let hash = argon2()?
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("argon2 hash: {e}"))?;
    Ok(hash.to_string())
}

thread_local! {
    /// This thread's Argon2 working memory (19 MiB), reused from one verification to the next
    /// and kept for the thread's life: allocating it afresh costs page faults and zeroing, a
    /// fifth of the work of a hash, and makes the process's memory grow (see `Passwords::new`).
    static MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Verifies `password` against a PHC string, with the parameters the string records, using
/// this thread's reusable working memory; the outputs are compared in constant time.
fn verify_blocking(password: &str, phc: &str) -> anyhow::Result<bool> {
    let unreadable = |e: &dyn std::fmt::Display| anyhow::anyhow!("stored hash unreadable: {e}");
    let parsed = PasswordHash::new(phc).map_err(|e| unreadable(&e))?;
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        anyhow::bail!("stored hash has no salt or no output");
    };
    let algorithm = Algorithm::try_from(parsed.algorithm).map_err(|e| unreadable(&e))?;
    let version = parsed
        .version
        .map(Version::try_from)
        .transpose()
        .map_err(|e| unreadable(&e))?
        .unwrap_or_default();
    let params = Params::try_from(&parsed).map_err(|e| unreadable(&e))?;
    let mut salt_buffer = [0u8; 64];
    let salt = salt
        .decode_b64(&mut salt_buffer)
        .map_err(|e| unreadable(&e))?;
    let blocks = params.block_count();
    let argon2 = Argon2::new(algorithm, version, params);
    let mut computed = vec![0u8; expected.len()];
    MEMORY.with(|memory| {
        let mut memory = memory.borrow_mut();
        if memory.len() < blocks {
            memory.resize(blocks, Block::default());
        }
        argon2
            .hash_password_into_with_memory(
                password.as_bytes(),
                salt,
                &mut computed,
                &mut memory[..blocks],
            )
            .map_err(|e| anyhow::anyhow!("argon2: {e}"))
    })?;
    Ok(bool::from(expected.as_bytes().ct_eq(&computed)))
}

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
pub struct Passwords {
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

impl std::fmt::Debug for Passwords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Passwords")
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

impl Passwords {
    /// A hasher with `concurrency` dedicated threads (at least one) and room for `queue`
    /// hashes waiting for them (at least one). The threads end when the last clone of the
    /// hasher is dropped.
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
                    // The thread keeps its working memory for its whole life. Giving it
                    // back after each burst made the allocator hand out a fresh 19 MiB
                    // region again and again (glibc raises its mmap threshold after the
                    // first free), and the process grew by hundreds of MB under a soak.
                    while let Ok(job) = queue.recv() {
                        job();
                    }
                })
                .context("cannot start a password-hashing thread")?;
        }
        let mut hasher = Self {
            jobs,
            places,
            stats,
            dummy_hash: Arc::from(""),
        };
        let dummy = super::secrets::random_token();
        hasher.dummy_hash = hasher.run(move || hash_blocking(&dummy)).await?.into();
        Ok(hasher)
    }

    /// Hashes a new password (the caller has checked the policy).
    pub async fn hash(&self, password: &SecretString) -> anyhow::Result<String> {
        let password = password.clone();
        self.run(move || hash_blocking(password.expose_secret()))
            .await
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
                verify_blocking(password.expose_secret(), &phc)
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

/// Raw verification with the same parameters, for benchmarks: verifies `password` against
/// `phc` on the calling thread.
pub fn verify_now(password: &str, phc: &str) -> anyhow::Result<bool> {
    verify_blocking(password, phc)
}

/// Raw hashing with the same parameters, on the calling thread.
pub fn hash_now(password: &str) -> anyhow::Result<String> {
    hash_blocking(password)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_counts_characters_and_bytes() {
        assert_eq!(
            check_new_password("short"),
            Err(PasswordPolicyError::TooShort)
        );
        assert!(check_new_password("éééééééé").is_ok());
        assert_eq!(
            check_new_password(&"a".repeat(1025)),
            Err(PasswordPolicyError::TooLong)
        );
    }

    #[tokio::test]
    async fn verifies_exactly_as_received() {
        let p = Passwords::new(1, 4, QueueStats::default()).await.unwrap();
        let hash = p.hash(&SecretString::from("pw-correct")).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(
            p.verify(
                p.admit().unwrap(),
                &SecretString::from("pw-correct"),
                Some(&hash),
                None
            )
            .await
            .unwrap()
        );
        assert!(
            !p.verify(
                p.admit().unwrap(),
                &SecretString::from("pw-correct "),
                Some(&hash),
                None
            )
            .await
            .unwrap()
        );
        assert!(
            !p.verify(
                p.admit().unwrap(),
                &SecretString::from("pw-correct"),
                None,
                None
            )
            .await
            .unwrap()
        );
    }

    #[tokio::test]
    async fn a_full_queue_refuses_at_once_and_gone_requesters_are_skipped() {
        // One thread, two places to wait: three places in all.
        let p = Passwords::new(1, 2, QueueStats::default()).await.unwrap();
        // Hold the only thread until released.
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let blocker = tokio::spawn({
            let p = p.clone();
            let place = p.admit().unwrap();
            async move {
                p.run_for(Some(place), None, move || Ok(wait.recv().is_ok()))
                    .await
            }
        });
        while !p.jobs.is_empty() || p.places.available_permits() > 2 {
            tokio::task::yield_now().await;
        }
        // Two wait in the queue; their requesters go away.
        let mut queued = Vec::new();
        for _ in 0..2 {
            let p = p.clone();
            let place = p.admit().unwrap();
            queued.push(tokio::spawn(async move {
                p.verify(place, &SecretString::from("x"), None, None).await
            }));
        }
        // The fourth finds every place taken, before any work is queued for it.
        assert_eq!(p.admit().unwrap_err(), Busy);
        assert_eq!(p.stats().shed.get(), 1);
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
