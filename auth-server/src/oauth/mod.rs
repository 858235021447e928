//! OAuth 2.0 protocol rules: grants, scopes, tokens, keys and secrets. No HTTP types here.
//!
//! Where a rule lives: reading a client's credentials in [`client_auth`], checking them in
//! [`client_authentication`]; the token form parsed into a [`token_request::TokenRequest`];
//! each grant in its own module under `grants/`; whether a refresh token may be rotated in
//! [`refresh_decision`]; [`revocation`] and [`introspection`]; the shared state in
//! [`service`]; passwords in [`password`] and the threads that hash them in [`hashing`].

pub mod client_auth;
pub mod client_authentication;
pub mod client_cache;
pub mod device;
pub mod error;
pub mod form;
pub mod grants;
pub mod hashing;
pub mod introspection;
pub mod keys;
pub mod password;
pub mod policy;
pub mod refresh_decision;
pub mod revocation;
pub mod scope;
pub mod secrets;
pub mod service;
pub mod throttle;
pub mod token_request;
pub mod tokens;
pub mod username;
