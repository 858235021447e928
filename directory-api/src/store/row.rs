//! A staff record as stored: its row type and ETag, the columns every read selects and their
//! mapping to the row type, shared by the reads through the pool and the calling-thread read.

use sqlx::Row as _;
use sqlx::any::AnyRow;

use crate::domain::staff::StaffRecord;
use crate::domain::time::rfc3339;

/// A record with its version, the source of its ETag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffRow {
    /// The record.
    pub record: StaffRecord,
    /// Incremented by every write.
    pub version: i64,
}

impl StaffRow {
    /// The record's strong ETag (RFC 9110 §8.8.3).
    pub fn etag(&self) -> String {
        etag(self.version)
    }
}

/// The strong ETag of a version.
pub fn etag(version: i64) -> String {
    format!("\"v{version}\"")
}

pub(super) const COLUMNS: &str = "s.id, s.username, s.display_name, s.family_name, s.job_title, s.department, s.email, s.phone, s.office, \
                       s.bio, s.research_interests, s.version, s.updated_at, s.retired_at, \
                       (SELECT COUNT(*) FROM staff_photos p WHERE p.staff_id = s.id) AS photo_count";

/// A [`StaffRow`] from a row of [`COLUMNS`], read by sqlx (`try_get`) or by rusqlite (`get`).
macro_rules! staff_from_row {
    ($r:expr, $get:ident) => {{
        let retired_at: Option<i64> = $r.$get("retired_at")?;
        StaffRow {
            record: StaffRecord {
                id: $r.$get("id")?,
                username: $r.$get("username")?,
                display_name: $r.$get("display_name")?,
                family_name: $r.$get("family_name")?,
                job_title: $r.$get("job_title")?,
                department: $r.$get("department")?,
                email: $r.$get("email")?,
                phone: $r.$get("phone")?,
                office: $r.$get("office")?,
                bio: $r.$get("bio")?,
                research_interests: $r.$get("research_interests")?,
                has_photo: {
                    let photos: i64 = $r.$get("photo_count")?;
                    photos > 0
                },
                updated_at: rfc3339($r.$get("updated_at")?),
                retired_at: retired_at.map(rfc3339),
            },
            version: $r.$get("version")?,
        }
    }};
}
pub(super) use staff_from_row;

/// A [`StaffRow`] from a row of [`COLUMNS`] read by sqlx.
pub(super) fn row_to_staff(r: &AnyRow) -> anyhow::Result<StaffRow> {
    Ok(staff_from_row!(r, try_get))
}
