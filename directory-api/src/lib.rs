//! The Staff Directory API: staff records behind OAuth 2.0 bearer tokens. It knows the
//! authorization server only through its published metadata and keys, as any third party
//! would. `main.rs` only parses the command line and calls [`cli::run`].

pub mod auth;
pub mod cli;
pub mod config;
pub mod domain;
pub mod error;
pub mod extract;
pub mod metrics;
pub mod routes;
pub mod seed;
pub mod startup;
pub mod state;
pub mod store;
pub mod threads;
