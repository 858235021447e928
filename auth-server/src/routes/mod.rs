//! HTTP handlers: extract, parse, call the OAuth service, map the result.

mod authorize;
mod discovery;
mod form_body;
mod revoke;
mod sign_in_page;
mod token;

use actix_web::web;

/// Registers the auth server's own routes (`/healthz`, `/readyz` and `/metrics` are
/// `service_kit::server`'s).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/oauth/authorize")
            .route(web::get().to(authorize::show))
            .route(web::post().to(authorize::submit)),
    )
    .route(
        "/static/sign-in.css",
        web::get().to(sign_in_page::stylesheet),
    )
    .service(
        web::resource("/oauth/token")
            .route(web::post().to(token::token))
            .default_service(web::to(form_body::method_not_allowed)),
    )
    .service(
        web::resource("/oauth/revoke")
            .route(web::post().to(revoke::revoke))
            .default_service(web::to(form_body::method_not_allowed)),
    )
    .service(
        web::resource("/oauth/introspect")
            .route(web::post().to(revoke::introspect))
            .default_service(web::to(form_body::method_not_allowed)),
    )
    .route(
        "/.well-known/oauth-authorization-server",
        web::get().to(discovery::metadata),
    )
    .route("/.well-known/jwks.json", web::get().to(discovery::jwks));
}
