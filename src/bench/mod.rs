//! `cargo run --release -- bench …`: measurements of the running services, each printing one
//! table with its figures and their ratios to a baseline measured in the same run.

pub mod api;
pub mod auth;
pub mod hr_sync;
mod load;
pub mod web;
