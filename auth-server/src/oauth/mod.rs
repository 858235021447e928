//! OAuth 2.0 protocol rules: grants, scopes, tokens, keys and secrets. No HTTP types here.
//!
//! Where a rule lives: reading a client's credentials in [`client_auth`], checking them in
//! [`client_authentication`]; the token form parsed into a [`token_request::TokenRequest`];
//! each grant in its own module under `grants/`; whether a refresh token may be rotated in
//! [`refresh_decision`]; [`revocation`] and [`introspection`]; the shared state in
//! [`service`]; passwords in [`password`] and the threads that hash them in [`hashing`];
//! checking a person's password for either way of signing in in [`sign_in`].
//!
//! The authorization code flow: the request in [`authorize`], its form's CSRF guard in
//! [`form_guard`], issuing codes in [`code_issuance`], PKCE in [`pkce`], redirect URIs in
//! [`redirect_uri`], and whether a presented code may be redeemed in [`code_decision`].

pub mod authorize;
pub mod client_auth;
pub mod client_authentication;
pub mod client_cache;
pub mod code_decision;
pub mod code_issuance;
pub mod device;
pub mod error;
pub mod form;
pub mod form_guard;
pub mod grants;
pub mod hashing;
pub mod introspection;
pub mod keys;
pub mod password;
pub mod pkce;
pub mod policy;
pub mod redirect_uri;
pub mod refresh_decision;
pub mod revocation;
pub mod scope;
pub mod secrets;
pub mod service;
pub mod sign_in;
pub mod throttle;
pub mod token_request;
pub mod tokens;
pub mod username;
