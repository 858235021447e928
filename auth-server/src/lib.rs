//! The Staff Directory's OAuth 2.0 authorization server: the authorization code grant with
//! PKCE and its own sign-in page, the `client_credentials`, `password` and `refresh_token`
//! grants, RFC 9068 JWT access tokens, revocation, introspection and metadata. `main.rs` only parses the command line and calls [`cli::run`].

pub mod admin;
pub mod at_rest;
pub mod cli;
pub mod config;
pub mod error;
pub mod metrics;
pub mod oauth;
pub mod routes;
pub mod startup;
pub mod state;
pub mod store;
