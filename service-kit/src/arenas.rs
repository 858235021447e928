//! The number of glibc allocator arenas, limited to [`ARENA_MAX`] for each service's process
//! (every binary of the workspace starts in [`main`]), by running itself again with
//! `MALLOC_ARENA_MAX` set.
//!
//! Why: glibc gives a thread that starts allocating while the others hold theirs an arena of
//! its own (up to eight per CPU), and memory freed in an arena stays in it, resident, to be
//! reused by the threads of that arena alone. The directory API's threads (HTTP workers, the
//! runtime's, SQLite's connection threads, search and photo threads) each filled one: under
//! the benchmark's soak its resident memory was 78 MB with its live data at 43 MB (measured
//! with a single arena), where the goal is 64 MB (docs/performance.md). With two arenas it was
//! 53 MB.
//!
//! Why by running again: glibc reads the setting when the process starts, and the other way to
//! set it (`mallopt`) is `unsafe`, which this workspace forbids. The `exec` replaces this
//! process with itself (same id, same arguments), before any thread or socket exists. An
//! operator's own `MALLOC_ARENA_MAX` (or a `GLIBC_TUNABLES` that sets `arena_max`) is kept as
//! it is. On other systems and C libraries nothing is done.

/// What every binary's `main` does: [`limit`] first, before any thread exists, then `body` on
/// a multi-threaded tokio runtime.
pub fn main(body: impl std::future::Future<Output = anyhow::Result<()>>) -> anyhow::Result<()> {
    limit();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(body)
}

/// Arenas each process of this program uses (glibc's default is eight per CPU).
pub const ARENA_MAX: &str = "2";

/// Runs this program again with `MALLOC_ARENA_MAX` set, unless the environment already limits
/// the arenas; returns only when nothing was to be done, or when running again failed (said on
/// standard error: the program then carries on with glibc's defaults). Call it first in
/// `main`, before any thread is started.
pub fn limit() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use std::os::unix::process::CommandExt as _;
        let tunables = std::env::var("GLIBC_TUNABLES").unwrap_or_default();
        if std::env::var_os("MALLOC_ARENA_MAX").is_some() || tunables.contains("arena_max") {
            return;
        }
        let mut args = std::env::args_os();
        let (Ok(exe), Some(arg0)) = (std::env::current_exe(), args.next()) else {
            return;
        };
        let error = std::process::Command::new(exe)
            .arg0(arg0)
            .args(args)
            .env("MALLOC_ARENA_MAX", ARENA_MAX)
            .exec();
        eprintln!(
            "warning: could not run again with MALLOC_ARENA_MAX={ARENA_MAX} ({error}); \
             carrying on with glibc's default allocator arenas"
        );
    }
}
