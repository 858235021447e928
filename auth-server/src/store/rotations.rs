//! Refresh-token rotation: the one statement that moves a family to its next generation, and,
//! on SQLite, the fast path that commits rotations in groups. A fast path kept because it was
//! measured; both branches are here and tested below.
//!
//! A rotation is one `INSERT … SELECT` of the next generation's token; the unique
//! `(family_id, generation)` index lets exactly one of two concurrent rotations of the same
//! generation in (RFC 9700 §4.14.2: a refresh token is used once), and a family revoked
//! meanwhile takes no new token.
//!
//! **Group commit (SQLite).** The profile of the refresh grant (`perf record -g`, 32
//! connections, 2 vCPUs; `docs/performance.md`), once the lookup ran on the calling thread,
//! was mostly this `INSERT`'s commit: SQLite's WAL bookkeeping (`walMerge`, checksums, the WAL
//! index, page-cache truncation after another connection wrote) and the hand-off to a pooled
//! connection's thread, once per refresh. That gave 6,400 refreshes per second (8% of the
//! auth server's `/healthz`); one pooled connection gave 5,168/s, because the round trips then
//! queue. Here one thread owns a connection, takes every rotation waiting (up to
//! `MAX_GROUP`), runs them in one transaction and answers each only after the commit: a
//! burst of N concurrent refreshes costs one commit instead of N, and nothing is acknowledged
//! before it is durable. Each `INSERT` keeps its own outcome, so a rotation that loses to
//! another of the same generation in the same group is refused alone and the rest commit.
//! Result: 12,500–14,900 refreshes per second, 18–19% of `/healthz` (goal ≥ 10%).
//!
//! **Through the pool (PostgreSQL).** PostgreSQL commits concurrently, so each rotation is
//! one statement on a pooled connection.

use std::path::Path;

use anyhow::Context as _;
use rusqlite::{Connection, ErrorCode};
use tokio::sync::oneshot;

use super::{Db, is_unique_violation};

/// How a rotation attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rotation {
    /// This request moved the family to the next generation and stored the new token.
    Rotated,
    /// Another request rotated (or revoked) the family first.
    LostRace,
}

/// Stores the next generation's token of a live family: `$1` its hash, `$2` its generation,
/// `$3` issue time, `$4` idle expiry, `$5` the family.
const ROTATE_REFRESH_TOKEN: &str = "INSERT INTO refresh_tokens \
        (token_hash, family_id, generation, issued_at, expires_at) \
    SELECT $1, family_id, $2, $3, $4 FROM refresh_families \
    WHERE family_id = $5 AND revoked_at IS NULL";

impl Db {
    /// Moves the family from generation `from` to `from + 1` by storing the new token: in a
    /// group commit on SQLite files, else one statement through the pool.
    pub async fn rotate_refresh_token(
        &self,
        family_id: &str,
        from: i64,
        new_token_hash: &str,
        issued_at: i64,
        expires_at: i64,
    ) -> anyhow::Result<Rotation> {
        if let Some(writer) = self.rotation_writer() {
            return writer
                .rotate(family_id, from, new_token_hash, issued_at, expires_at)
                .await;
        }
        let inserted = sqlx::query(ROTATE_REFRESH_TOKEN)
            .bind(new_token_hash)
            .bind(from + 1)
            .bind(issued_at)
            .bind(expires_at)
            .bind(family_id)
            .execute(self.pool())
            .await;
        match inserted {
            Ok(done) if done.rows_affected() == 1 => Ok(Rotation::Rotated),
            Ok(_) => Ok(Rotation::LostRace),
            Err(e) if is_unique_violation(&e) => Ok(Rotation::LostRace),
            Err(e) => Err(e.into()),
        }
    }
}

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

/// The group commit on SQLite: the sending side of the writer thread, which ends when the
/// last clone is dropped.
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::refresh::NewFamily;

    /// A migrated SQLite database in a fresh folder; with `group_commit` false, rotations go
    /// through the pool as on PostgreSQL.
    async fn database(name: &str, group_commit: bool) -> (Db, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!(
            "auth-rotations-{}-{name}-{}",
            std::process::id(),
            crate::oauth::secrets::random_b64(6)
        ));
        let file = dir.join("auth.db");
        let mut db = Db::connect(&format!("sqlite://{}", file.display()))
            .await
            .unwrap();
        db.migrate().await.unwrap();
        if !group_commit {
            db.rotations = None;
        }
        assert_eq!(db.rotation_writer().is_some(), group_commit);
        (db, dir)
    }

    async fn family(db: &Db, family_id: &str) {
        db.create_family(&NewFamily {
            family_id,
            client_id: "web",
            username: "alice",
            scope: "directory:read",
            created_at: 100,
            expires_at: 10_000,
            token_hash: &format!("{family_id}-0"),
            token_expires_at: 1_000,
        })
        .await
        .unwrap();
    }

    async fn rotations_are_used_once(group_commit: bool) {
        let (db, dir) = database(if group_commit { "grouped" } else { "pool" }, group_commit).await;
        family(&db, "f").await;
        // Sixteen concurrent rotations of the same generation: exactly one gets in.
        let racers = (0..16).map(|i| {
            let db = db.clone();
            tokio::spawn(async move {
                db.rotate_refresh_token("f", 0, &format!("f-1-{i}"), 200, 1_200)
                    .await
                    .unwrap()
            })
        });
        let mut outcomes = Vec::new();
        for racer in racers.collect::<Vec<_>>() {
            outcomes.push(racer.await.unwrap());
        }
        assert_eq!(
            outcomes.iter().filter(|o| **o == Rotation::Rotated).count(),
            1,
            "{outcomes:?}"
        );
        // The next generation follows; a second rotation from it loses.
        assert_eq!(
            db.rotate_refresh_token("f", 1, "f-2", 300, 1_300)
                .await
                .unwrap(),
            Rotation::Rotated
        );
        assert_eq!(
            db.rotate_refresh_token("f", 1, "f-2b", 300, 1_300)
                .await
                .unwrap(),
            Rotation::LostRace
        );
        let newest = db.find_refresh_token("f-2").await.unwrap().unwrap();
        assert_eq!((newest.token_generation, newest.family_generation), (2, 2));
        // A revoked family takes no new token.
        assert!(db.revoke_family("f", 400, "revoked").await.unwrap());
        assert_eq!(
            db.rotate_refresh_token("f", 2, "f-3", 400, 1_400)
                .await
                .unwrap(),
            Rotation::LostRace
        );
        assert!(db.find_refresh_token("f-3").await.unwrap().is_none());
        db.close().await;
        drop(std::fs::remove_dir_all(dir));
    }

    #[tokio::test]
    async fn with_group_commit_a_refresh_token_is_rotated_once() {
        rotations_are_used_once(true).await;
    }

    #[tokio::test]
    async fn through_the_pool_a_refresh_token_is_rotated_once() {
        rotations_are_used_once(false).await;
    }

    #[tokio::test]
    async fn each_rotation_of_a_group_keeps_its_own_outcome() {
        let (db, dir) = database("group", true).await;
        for f in ["a", "b", "c"] {
            family(&db, f).await;
        }
        assert!(db.revoke_family("c", 150, "revoked").await.unwrap());
        let conn = service_kit::db::open_sqlite(&dir.join("auth.db")).unwrap();
        let job = |family_id: &str, token: &str| {
            let (done, outcome) = oneshot::channel();
            let job = Job {
                family_id: family_id.to_owned(),
                from: 0,
                new_token_hash: token.to_owned(),
                issued_at: 200,
                expires_at: 1_200,
                done,
            };
            (job, outcome)
        };
        let (jobs, outcomes): (Vec<_>, Vec<_>) = [
            job("a", "a-1"),
            job("a", "a-1-again"),
            job("b", "b-1"),
            job("c", "c-1"),
        ]
        .into_iter()
        .unzip();
        // One transaction: the duplicate and the revoked family lose alone, the rest commit.
        commit_group(&conn, jobs);
        let mut answers = Vec::new();
        for outcome in outcomes {
            answers.push(outcome.await.unwrap().unwrap());
        }
        assert_eq!(
            answers,
            [
                Rotation::Rotated,
                Rotation::LostRace,
                Rotation::Rotated,
                Rotation::LostRace
            ]
        );
        for (token, stored) in [
            ("a-1", true),
            ("a-1-again", false),
            ("b-1", true),
            ("c-1", false),
        ] {
            assert_eq!(
                db.find_refresh_token(token).await.unwrap().is_some(),
                stored,
                "{token}"
            );
        }
        drop(conn);
        db.close().await;
        drop(std::fs::remove_dir_all(dir));
    }
}
