//! The pages and endpoints of the website.

pub mod assets;
pub mod health;
pub mod pages;

use actix_web::web;

/// Registers every route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(pages::directory))
        .route("/staff/{id}", web::get().to(pages::staff))
        .route("/how-it-works", web::get().to(pages::how_it_works))
        .route("/static/site.css", web::get().to(assets::stylesheet))
        .route("/healthz", web::get().to(health::healthz))
        .route("/readyz", web::get().to(health::readyz))
        .route("/metrics", web::get().to(health::metrics));
}
