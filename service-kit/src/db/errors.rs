//! Classifying database failures, the same way for every service and both backends: which are a
//! client's mistake (a unique key taken) and which mean the database cannot be reached right
//! now (answered 503 with `Retry-After`, not 500).

/// Whether a database error is a unique-constraint violation (an insert of an existing key).
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// Whether a failure means the database cannot be reached right now, so that a retry may
/// succeed and the service answers 503 with `Retry-After` instead of 500: no connection could
/// be had in time or the pool is closed, the connection broke (I/O), SQLite's file is locked by
/// another process past the busy timeout, or PostgreSQL refuses work while it starts, stops or
/// has lost the connection (SQLSTATE classes 08 and 57P).
pub fn is_unreachable(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        // The connections of `local_reads` and the auth server's rotation writer (rusqlite).
        if let Some(rusqlite::Error::SqliteFailure(failure, _)) =
            cause.downcast_ref::<rusqlite::Error>()
        {
            return matches!(
                failure.code,
                rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
            );
        }
        match cause.downcast_ref::<sqlx::Error>() {
            Some(sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_)) => true,
            Some(sqlx::Error::Database(db)) => db.code().is_some_and(|code| {
                // SQLite: SQLITE_BUSY (5) and SQLITE_LOCKED (6), extended codes included (SQLite's
                // codes are numbers; PostgreSQL's SQLSTATEs always have five characters).
                (code.len() < 5 && code.parse::<i32>().is_ok_and(|n| matches!(n & 0xff, 5 | 6)))
                    || code.starts_with("08")
                    || code.starts_with("57P")
            }),
            _ => false,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreachable_database_is_told_from_other_failures() {
        for e in [
            sqlx::Error::PoolTimedOut,
            sqlx::Error::PoolClosed,
            sqlx::Error::Io(std::io::ErrorKind::ConnectionRefused.into()),
        ] {
            assert!(is_unreachable(&anyhow::Error::new(e).context("a query")));
        }
        for e in [sqlx::Error::RowNotFound, sqlx::Error::Protocol("x".into())] {
            assert!(!is_unreachable(&anyhow::Error::new(e)));
        }
        assert!(!is_unreachable(&anyhow::anyhow!("not a database error")));
        let busy = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
            None,
        );
        assert!(is_unreachable(
            &anyhow::Error::new(busy).context("a rotation")
        ));
    }
}
