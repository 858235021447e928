//! Time, passed in through the service state so that tests control it and never sleep (shared by
//! the three services).

pub use service_kit::clock::{Clock, ManualClock, SystemClock};
