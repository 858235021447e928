//! Time, passed in through the service state so that tests control it and never sleep.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A source of the current time in Unix seconds.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Now, in Unix seconds.
    fn now(&self) -> i64;
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
            .unwrap_or(0)
    }
}

/// A clock that moves only when told to: for tests of expiry and throttling windows.
#[derive(Debug)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    /// A clock showing the system time now.
    pub fn starting_now() -> Self {
        Self::at(SystemClock.now())
    }

    /// A clock showing `unix_seconds`.
    pub fn at(unix_seconds: i64) -> Self {
        Self(AtomicI64::new(unix_seconds))
    }

    /// Moves the clock by `seconds` (forward, or back when negative).
    pub fn advance(&self, seconds: i64) {
        self.0.fetch_add(seconds, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}
