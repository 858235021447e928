//! OAuth 2.0 protocol rules: grants, scopes, tokens, keys and secrets. No HTTP types here.

pub mod client_auth;
pub mod client_cache;
pub mod device;
pub mod error;
pub mod form;
pub mod keys;
pub mod password;
pub mod policy;
pub mod scope;
pub mod secrets;
pub mod service;
pub mod throttle;
pub mod tokens;
pub mod username;
