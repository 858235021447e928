//! What the Staff Directory's three services share and that belongs to none of them: the clock
//! they read the time from, and how they log. Each service re-exports these as its own `clock`
//! and `telemetry` modules, so that none depends on another service's crate.

pub mod clock;
pub mod telemetry;
