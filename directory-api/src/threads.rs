//! A fixed few threads of the API's own for work too long for an HTTP worker: the searches
//! on a SQLite file (each thread with its own read-only connection for its whole life) and the
//! photo decodes.
//!
//! Why not tokio's blocking threads, which ran both before: the runtime starts a new one
//! whenever none is idle and ends it after ten idle seconds, and glibc gives each new thread
//! an allocator arena, which keeps its pages after the thread has gone. Over the benchmark ten
//! or more such threads each opened a read connection (its page cache up to 2 MB) or decoded
//! photos, and filled an arena of its own; the API's resident memory under the soak reached
//! 140 MB, where the goal is 64 MB. With these threads the connections, and the arenas they
//! fill, are those few whatever the traffic (docs/performance.md has the figures).
//!
//! Work waits for a free thread as a [`Place`], in async code, so a request that gives up
//! while it waits never runs. A place, once taken, is held by the work itself until it is
//! done: a client that gives up does not free its thread for the next one before the thread
//! is free.

use std::sync::Arc;

use anyhow::Context as _;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Work to run, with its way back to the caller.
type Job = Box<dyn FnOnce() + Send>;

/// The threads; cheap to clone. They end when the last clone (and the last [`Place`]) is
/// dropped.
#[derive(Debug, Clone)]
pub struct Dedicated {
    jobs: flume::Sender<Job>,
    places: Arc<Semaphore>,
}

impl Dedicated {
    /// `threads` threads (at least one) named `name-0`, `name-1`…, started now.
    pub fn start(name: &str, threads: usize) -> anyhow::Result<Self> {
        let threads = threads.max(1);
        let (jobs, queue) = flume::unbounded::<Job>();
        for i in 0..threads {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("{name}-{i}"))
                .spawn(move || {
                    while let Ok(job) = queue.recv() {
                        // A panic (the panic hook has logged it) ends that one piece of work,
                        // whose caller is told by its dropped channel, and never the thread.
                        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                    }
                })
                .with_context(|| format!("cannot start a {name} thread"))?;
        }
        Ok(Self {
            jobs,
            places: Arc::new(Semaphore::new(threads)),
        })
    }

    /// Waits for a free thread. Cancel-safe: dropped while it waits, it takes nothing.
    pub async fn place(&self) -> anyhow::Result<Place> {
        Ok(Place {
            permit: self.places.clone().acquire_owned().await?,
            jobs: self.jobs.clone(),
        })
    }

    /// Threads free now.
    pub fn free(&self) -> usize {
        self.places.available_permits()
    }
}

/// A free thread, taken.
#[derive(Debug)]
pub struct Place {
    permit: OwnedSemaphorePermit,
    jobs: flume::Sender<Job>,
}

impl Place {
    /// Runs `work` on the thread and gives back its result. The place is released when the
    /// work ends, whether or not anyone still waits for it.
    pub async fn run<T: Send + 'static>(
        self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> anyhow::Result<T> {
        let Place { permit, jobs } = self;
        let (answer, answered) = tokio::sync::oneshot::channel();
        jobs.send(Box::new(move || {
            let result = work();
            drop(permit);
            // Nobody to answer when the request has gone meanwhile.
            let _ = answer.send(result);
        }))
        .map_err(|_| anyhow::anyhow!("the threads have stopped"))?;
        answered
            .await
            .map_err(|_| anyhow::anyhow!("the work failed on its thread (see the log)"))
    }
}

#[cfg(test)]
mod tests {
    use super::Dedicated;

    #[tokio::test]
    async fn work_runs_on_the_named_threads_a_place_is_held_until_done_and_a_panic_is_an_error() {
        let threads = Dedicated::start("test", 2).unwrap();
        assert_eq!(threads.free(), 2);
        let name = threads
            .place()
            .await
            .unwrap()
            .run(|| std::thread::current().name().map(str::to_owned))
            .await
            .unwrap();
        assert!(
            matches!(name.as_deref(), Some("test-0" | "test-1")),
            "{name:?}"
        );

        // A place whose caller has gone stays taken until its work ends.
        let (started, has_started) = std::sync::mpsc::channel::<()>();
        let (go, wait) = std::sync::mpsc::channel::<()>();
        let place = threads.place().await.unwrap();
        let abandoned = tokio::spawn(place.run(move || {
            started.send(()).unwrap();
            wait.recv().is_ok()
        }));
        while has_started.try_recv().is_err() {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        abandoned.abort();
        assert!(abandoned.await.unwrap_err().is_cancelled());
        assert_eq!(threads.free(), 1, "still running, still held");
        go.send(()).unwrap();
        for _ in 0..1000 {
            if threads.free() == 2 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        assert_eq!(threads.free(), 2, "released when the work ended");

        // A panic is the caller's error, and the threads carry on.
        let panicked = threads
            .place()
            .await
            .unwrap()
            .run(|| -> u8 { panic!("boom") })
            .await
            .unwrap_err();
        assert!(
            panicked.to_string().contains("failed on its thread"),
            "{panicked}"
        );
        for _ in 0..4 {
            assert_eq!(threads.place().await.unwrap().run(|| 7).await.unwrap(), 7);
        }
    }
}
