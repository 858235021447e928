//! Time, passed in through the service state so that tests control it and never sleep (shared by
//! the three services).

pub use service_kit::clock::{Clock, ManualClock, SystemClock};

use std::time::{Duration, UNIX_EPOCH};

/// RFC 3339 (UTC, seconds) for Unix seconds.
pub fn rfc3339(unix_seconds: i64) -> String {
    let t = UNIX_EPOCH + Duration::from_secs(u64::try_from(unix_seconds).unwrap_or(0));
    humantime::format_rfc3339_seconds(t).to_string()
}
