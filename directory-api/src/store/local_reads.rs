//! Reads of one record by id on SQLite, on the calling HTTP worker thread (see
//! `service_kit::local_reads` for why).

use rusqlite::OptionalExtension as _;
use service_kit::local_reads::LocalReads;

use super::staff::{COLUMNS, StaffRow};
use crate::clock::rfc3339;
use crate::domain::staff::StaffRecord;

/// The record `id`, live or retired.
pub fn staff(local: &LocalReads, id: i64) -> anyhow::Result<Option<StaffRow>> {
    local.read(|conn| {
        let mut statement =
            conn.prepare_cached(&format!("SELECT {COLUMNS} FROM staff s WHERE s.id = ?1"))?;
        statement
            .query_row([id], |r| {
                let retired_at: Option<i64> = r.get("retired_at")?;
                Ok(StaffRow {
                    record: StaffRecord {
                        id: r.get("id")?,
                        username: r.get("username")?,
                        display_name: r.get("display_name")?,
                        job_title: r.get("job_title")?,
                        department: r.get("department")?,
                        email: r.get("email")?,
                        phone: r.get("phone")?,
                        office: r.get("office")?,
                        bio: r.get("bio")?,
                        research_interests: r.get("research_interests")?,
                        updated_at: rfc3339(r.get("updated_at")?),
                        retired_at: retired_at.map(rfc3339),
                    },
                    version: r.get("version")?,
                })
            })
            .optional()
    })
}
