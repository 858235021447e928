//! The one-command demo of the Staff Directory: every service in one process, SQLite under
//! `./data`, seeded with the demo clients and users of the design.

pub mod bench;
pub mod demo;
pub mod hr_sync;
pub mod lab;
pub mod launcher;
pub mod seed;
pub mod stack;
