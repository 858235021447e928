//! `GET /.well-known/oauth-authorization-server` (RFC 8414) and `GET /.well-known/jwks.json`.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde::Serialize;

use crate::error::Error;
use crate::oauth::keys::ALGORITHM;
use crate::oauth::policy::GrantType;
use crate::oauth::scope::Scope;
use crate::state::AppState;

const AUTH_METHODS: [&str; 2] = ["client_secret_basic", "client_secret_post"];

#[derive(Serialize)]
struct Metadata {
    issuer: String,
    /// RFC 6749 §3.1: the sign-in page of the authorization code flow.
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
    revocation_endpoint: String,
    introspection_endpoint: String,
    scopes_supported: Vec<&'static str>,
    /// RFC 8414 §2: `code` only (no implicit flow, RFC 9700 §2.1.2).
    response_types_supported: [&'static str; 1],
    /// RFC 8414 §2 (RFC 7636 §4.2): `S256` only, `plain` refused.
    code_challenge_methods_supported: [&'static str; 1],
    /// RFC 9207 §3: every authorization response carries `iss`.
    authorization_response_iss_parameter_supported: bool,
    grant_types_supported: Vec<&'static str>,
    token_endpoint_auth_methods_supported: [&'static str; 2],
    revocation_endpoint_auth_methods_supported: [&'static str; 2],
    introspection_endpoint_auth_methods_supported: [&'static str; 2],
    /// Signing algorithms of access tokens (the JWT profile's published algorithms).
    access_token_signing_alg_values_supported: [&'static str; 1],
}

/// The authorization server metadata (RFC 8414 §2, §3).
pub async fn metadata(state: web::Data<AppState>) -> HttpResponse {
    let issuer = state.tokens.issuer().to_owned();
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .json(Metadata {
            authorization_endpoint: format!("{issuer}/oauth/authorize"),
            token_endpoint: format!("{issuer}/oauth/token"),
            jwks_uri: format!("{issuer}/.well-known/jwks.json"),
            revocation_endpoint: format!("{issuer}/oauth/revoke"),
            introspection_endpoint: format!("{issuer}/oauth/introspect"),
            issuer,
            scopes_supported: Scope::ALL.iter().map(|s| s.as_str()).collect(),
            response_types_supported: ["code"],
            code_challenge_methods_supported: ["S256"],
            authorization_response_iss_parameter_supported: true,
            grant_types_supported: GrantType::ALL.iter().map(|g| g.as_str()).collect(),
            token_endpoint_auth_methods_supported: AUTH_METHODS,
            revocation_endpoint_auth_methods_supported: AUTH_METHODS,
            introspection_endpoint_auth_methods_supported: AUTH_METHODS,
            access_token_signing_alg_values_supported: [ALGORITHM],
        })
}

/// The public signing keys (RFC 7517). Cached briefly: a new key is published before it
/// signs anything only on the next reload, and verifiers refetch on an unknown `kid`.
pub async fn jwks(state: web::Data<AppState>) -> Result<HttpResponse, Error> {
    let jwks = state.tokens.jwks().await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=60"))
        .json(jwks))
}
