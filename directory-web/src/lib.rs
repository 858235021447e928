//! The Staff Directory website: the public directory rendered with the site's own token
//! (OAuth 2.0 `client_credentials`), and members of staff signed in either on the
//! authorization server's own page (authorization code with PKCE) or, to compare, with the
//! password grant; and `/try-it`, where the guide's attacks run live against the API and are
//! refused. It knows the authorization server only through its endpoints, and the API
//! only through HTTP.

pub mod api_client;
pub mod claims;
pub mod cli;
pub mod code_flow;
pub mod config;
pub mod device;
pub mod error;
pub mod extract;
pub mod headers;
pub mod history;
pub mod metrics;
pub mod outbound;
pub mod photo_cache;
pub mod renewal;
pub mod respond;
pub mod revocation;
pub mod routes;
pub mod session;
pub mod startup;
pub mod state;
pub mod token;
pub mod try_it;
pub mod user_tokens;
pub mod views;
