//! Reads of one record by id on SQLite, on the calling HTTP worker thread (see
//! `service_kit::local_reads` for why).

use rusqlite::OptionalExtension as _;
use service_kit::local_reads::LocalReads;

use super::staff::{COLUMNS, StaffRow, staff_from_row};
use crate::clock::rfc3339;
use crate::domain::staff::StaffRecord;

/// The record `id`, live or retired.
pub fn staff(local: &LocalReads, id: i64) -> anyhow::Result<Option<StaffRow>> {
    local.read(|conn| {
        conn.prepare_cached(&format!("SELECT {COLUMNS} FROM staff s WHERE s.id = ?1"))?
            .query_row([id], |r| Ok(staff_from_row!(r, get)))
            .optional()
    })
}
