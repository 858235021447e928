//! The fictional demo staff (`seed/staff.json`), loaded into an empty directory.

use crate::domain::staff::{NewStaff, NewStaffRequest};
use crate::store::Db;
use crate::store::staff::Actor;

/// The demo records, as shipped.
const DEMO_STAFF: &str = include_str!("../seed/staff.json");

/// The demo records, parsed like any other input.
pub fn demo_staff() -> anyhow::Result<Vec<NewStaff>> {
    let requests: Vec<NewStaffRequest> = serde_json::from_str(DEMO_STAFF)?;
    requests
        .iter()
        .map(|r| {
            NewStaff::parse(r).map_err(|errors| {
                anyhow::anyhow!("demo record {} is invalid: {errors:?}", r.username)
            })
        })
        .collect()
}

/// Loads the demo staff if the directory has no record at all (first start only: what was
/// changed or retired since stays as it is). Returns how many were added.
pub async fn seed_demo(db: &Db, now: i64) -> anyhow::Result<usize> {
    if db.staff_count().await? > 0 {
        return Ok(0);
    }
    let actor = Actor {
        subject: "demo-seed",
        client_id: "demo-seed",
        kind: "seed",
    };
    db.create_staff_many(&demo_staff()?, actor, now).await
}
