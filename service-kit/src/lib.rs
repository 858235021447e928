//! What the Staff Directory's services share and that belongs to none of them: the clock they
//! read the time from, how they log, how they open their database (and read it on the calling
//! thread), the request ids that tie their log lines together, the bounds on slow clients, and
//! how they stop, and the HTTP server itself ([`server`]) that each service fills with its state
//! and its routes. The services depend on this crate and never on each other.

pub mod address_throttle;
pub mod arenas;
pub mod clock;
pub mod db;
pub mod health;
pub mod http_metrics;
pub mod issuer;
pub mod limits;
pub mod liveness;
pub mod local_reads;
pub mod request_id;
pub mod server;
pub mod settings;
pub mod shutdown;
pub mod telemetry;
