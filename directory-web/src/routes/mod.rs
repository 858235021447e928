//! The pages and endpoints of the website.

pub mod account;
pub mod assets;
pub mod pages;

use actix_web::web;

/// Registers the website's own routes (`/healthz`, `/readyz` and `/metrics` are
/// `service_kit::server`'s).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(pages::directory))
        .route("/staff/{id}", web::get().to(pages::staff))
        .route("/how-it-works", web::get().to(pages::how_it_works))
        .route("/sign-in", web::get().to(account::sign_in_form))
        .route("/sign-in", web::post().to(account::sign_in))
        .route("/profile", web::get().to(account::profile))
        .route("/profile", web::post().to(account::save_profile))
        .route("/sign-out", web::post().to(account::sign_out))
        .route("/static/site.css", web::get().to(assets::stylesheet))
        .route("/static/favicon.svg", web::get().to(assets::favicon))
        .route("/favicon.ico", web::get().to(assets::favicon));
}
