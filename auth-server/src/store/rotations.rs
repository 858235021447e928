//! Refresh-token rotations on SQLite, committed in groups by one writer thread.
//!
//! A rotation is one `INSERT` and a commit. Through the pool, each one paid a hand-off to a
//! connection's thread and a commit of its own, and the profile of the refresh grant was
//! mostly SQLite's commit work (WAL frames, checksums, the WAL index) and those hand-offs.
//! Here one thread owns a connection, takes every rotation waiting, runs them in one
//! transaction and answers each only after the commit: a burst of N concurrent refreshes costs
//! one commit instead of N, and nothing is acknowledged before it is durable. Each `INSERT`
//! keeps its own outcome (the unique index still lets exactly one rotation per generation in).
//! PostgreSQL, which commits concurrently, goes through the pool.

use std::path::Path;

use anyhow::Context as _;
use rusqlite::{Connection, ErrorCode};
use tokio::sync::oneshot;

use super::refresh::{ROTATE_REFRESH_TOKEN, Rotation};

/// Most rotations committed together.
const MAX_GROUP: usize = 256;

/// One rotation to make.
struct Job {
    family_id: String,
    from: i64,
    new_token_hash: String,
    issued_at: i64,
    expires_at: i64,
    done: oneshot::Sender<anyhow::Result<Rotation>>,
}

/// The sending side of the writer thread; the thread ends when the last clone is dropped.
#[derive(Debug, Clone)]
pub struct RotationWriter {
    jobs: flume::Sender<Job>,
}

impl RotationWriter {
    /// Opens a connection to the SQLite file at `path` and starts the writer thread.
    pub fn start(path: &Path) -> anyhow::Result<Self> {
        let conn = service_kit::db::open_sqlite(path)?;
        let (jobs, queue) = flume::unbounded::<Job>();
        std::thread::Builder::new()
            .name("refresh-writer".to_owned())
            .spawn(move || {
                while let Ok(first) = queue.recv() {
                    let mut group = vec![first];
                    group.extend(queue.try_iter().take(MAX_GROUP - 1));
                    commit_group(&conn, group);
                }
            })
            .context("cannot start the refresh-token writer thread")?;
        Ok(Self { jobs })
    }

    /// Moves the family from generation `from` to `from + 1` with the new token, once the
    /// group it joined has committed.
    pub async fn rotate(
        &self,
        family_id: &str,
        from: i64,
        new_token_hash: &str,
        issued_at: i64,
        expires_at: i64,
    ) -> anyhow::Result<Rotation> {
        let (done, outcome) = oneshot::channel();
        self.jobs
            .send(Job {
                family_id: family_id.to_owned(),
                from,
                new_token_hash: new_token_hash.to_owned(),
                issued_at,
                expires_at,
                done,
            })
            .map_err(|_| anyhow::anyhow!("the refresh-token writer has stopped"))?;
        outcome
            .await
            .context("the refresh-token writer dropped a rotation")?
    }
}

/// Runs `group` in one transaction and answers each job after the commit (or with the error
/// that stopped the whole group).
fn commit_group(conn: &Connection, group: Vec<Job>) {
    let outcomes = run_group(conn, &group);
    match outcomes {
        Ok(outcomes) => {
            for (job, outcome) in group.into_iter().zip(outcomes) {
                // The requester may have gone (client disconnected): nothing to tell.
                drop(job.done.send(outcome));
            }
        }
        Err(e) => {
            // Every job gets the cause, so that a busy or locked database still reads as
            // one that cannot be reached (503), not as a failure of this server (500).
            let message = format!("{e:#}");
            for job in group {
                let cause = match e.downcast_ref::<rusqlite::Error>() {
                    Some(rusqlite::Error::SqliteFailure(failure, detail)) => {
                        anyhow::Error::new(rusqlite::Error::SqliteFailure(*failure, detail.clone()))
                    }
                    _ => anyhow::anyhow!("{message}"),
                };
                drop(
                    job.done
                        .send(Err(cause.context("the rotation's transaction failed"))),
                );
            }
        }
    }
}

/// Each job's outcome, once the transaction has committed.
fn run_group(conn: &Connection, group: &[Job]) -> anyhow::Result<Vec<anyhow::Result<Rotation>>> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let outcomes = group.iter().map(|job| rotate_one(conn, job)).collect();
    if let Err(e) = conn.execute_batch("COMMIT") {
        drop(conn.execute_batch("ROLLBACK"));
        return Err(e.into());
    }
    Ok(outcomes)
}

fn rotate_one(conn: &Connection, job: &Job) -> anyhow::Result<Rotation> {
    let inserted = conn.prepare_cached(ROTATE_REFRESH_TOKEN)?.execute((
        &job.new_token_hash,
        job.from + 1,
        job.issued_at,
        job.expires_at,
        &job.family_id,
    ));
    match inserted {
        Ok(1) => Ok(Rotation::Rotated),
        Ok(_) => Ok(Rotation::LostRace),
        // The unique (family, generation) index: another rotation of this generation won.
        // A failed statement is undone alone; the transaction goes on.
        Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == ErrorCode::ConstraintViolation => {
            Ok(Rotation::LostRace)
        }
        Err(e) => Err(e.into()),
    }
}
