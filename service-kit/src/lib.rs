//! What the Staff Directory's services share and that belongs to none of them: the clock they
//! read the time from, how they log, how they open their database, the request ids that tie
//! their log lines together, and the bounds on slow clients.

pub mod clock;
pub mod db;
pub mod health;
pub mod limits;
pub mod request_id;
pub mod telemetry;
