//! How the API writes instants: RFC 3339 in UTC, to the second, from the Unix seconds the
//! store keeps.

use std::time::{Duration, UNIX_EPOCH};

/// RFC 3339 (UTC, seconds) for Unix seconds; instants before 1970 are written as the epoch.
pub fn rfc3339(unix_seconds: i64) -> String {
    let t = UNIX_EPOCH + Duration::from_secs(u64::try_from(unix_seconds).unwrap_or(0));
    humantime::format_rfc3339_seconds(t).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_seconds_are_written_in_utc_to_the_second() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_780_000_000), "2026-05-28T20:26:40Z");
        assert_eq!(rfc3339(-5), "1970-01-01T00:00:00Z");
    }
}
