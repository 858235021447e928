//! HTTP handlers: extract, parse, call the OAuth service, map the result.

mod discovery;
mod form_body;
mod health;
mod revoke;
mod token;

use actix_web::web;

/// Registers every route of the auth server; `/metrics` only when `metrics_here` (else it is
/// served on its own address, `--metrics-bind`).
pub fn configure(cfg: &mut web::ServiceConfig, metrics_here: bool) {
    cfg.service(
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
    .route("/.well-known/jwks.json", web::get().to(discovery::jwks))
    .route("/healthz", web::get().to(health::healthz))
    .route("/readyz", web::get().to(health::readyz));
    if metrics_here {
        cfg.route("/metrics", web::get().to(health::metrics));
    }
}
