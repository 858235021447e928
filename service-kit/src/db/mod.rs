//! A service's database: the URL ([`url`], a secret), opening it ([`connection`]) and telling
//! its failures apart ([`errors`]). The items every service uses are named here too.

pub mod connection;
pub mod errors;
pub mod url;

pub use connection::{Backend, connect, open_sqlite, sqlite_file};
pub use errors::{is_unique_violation, is_unreachable};
pub use url::{DatabaseUrl, url_from};
