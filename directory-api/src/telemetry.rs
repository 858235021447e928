//! Logging: `tracing` to standard error, text or JSON, filtered by `RUST_LOG` (shared by the
//! three services).

pub use service_kit::telemetry::{LogFormat, init};
