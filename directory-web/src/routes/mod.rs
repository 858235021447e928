//! The pages and endpoints of the website.

pub mod assets;
pub mod health;
pub mod pages;
pub mod profile;
pub mod sign_in;
pub mod sign_out;

use actix_web::web;

/// Registers every route; `/metrics` only when `metrics_here` (no `--metrics-bind`).
pub fn configure(cfg: &mut web::ServiceConfig, metrics_here: bool) {
    cfg.route("/", web::get().to(pages::directory))
        .route("/staff/{id}", web::get().to(pages::staff))
        .route("/how-it-works", web::get().to(pages::how_it_works))
        .route("/sign-in", web::get().to(sign_in::sign_in_form))
        .route("/sign-in", web::post().to(sign_in::sign_in))
        .route("/profile", web::get().to(profile::profile))
        .route("/profile", web::post().to(profile::save_profile))
        .route("/sign-out", web::post().to(sign_out::sign_out))
        .route("/static/site.css", web::get().to(assets::stylesheet))
        .route("/static/favicon.svg", web::get().to(assets::favicon))
        .route("/favicon.ico", web::get().to(assets::favicon))
        .route("/healthz", web::get().to(health::healthz))
        .route("/readyz", web::get().to(health::readyz));
    if metrics_here {
        cfg.route("/metrics", web::get().to(health::metrics));
    }
}
