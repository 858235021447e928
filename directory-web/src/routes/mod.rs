//! The pages and endpoints of the website.

pub mod assets;
pub mod browse;
pub mod code_flow;
pub mod pages;
pub mod photos;
pub mod profile;
pub mod sign_in;
pub mod sign_out;
pub mod try_it;

use actix_web::web;

use crate::config::SignInMethods;

/// Registers the website's own routes (`/healthz`, `/readyz` and `/metrics` are
/// `service_kit::server`'s). A sign-in method that `methods` does not offer has no route:
/// its addresses answer 404 like any unknown page.
pub fn configure(cfg: &mut web::ServiceConfig, methods: SignInMethods) {
    if methods.password() {
        cfg.route("/sign-in", web::post().to(sign_in::sign_in));
    }
    if methods.authorization_code() {
        cfg.route("/sign-in/start", web::get().to(code_flow::start))
            .route("/sign-in/callback", web::get().to(code_flow::callback));
    }
    cfg.route("/", web::get().to(pages::directory))
        .route("/staff/{id}", web::get().to(pages::staff))
        .route("/staff/{id}/photo", web::get().to(photos::photo))
        .route("/staff/{id}/photo/thumb", web::get().to(photos::thumbnail))
        .route("/how-it-works", web::get().to(pages::how_it_works))
        .route("/try-it", web::get().to(try_it::try_it))
        .route("/try-it", web::post().to(try_it::run))
        .route("/sign-in", web::get().to(sign_in::sign_in_form))
        .route("/profile", web::get().to(profile::profile))
        .route("/profile", web::post().to(profile::save_profile))
        .route("/profile/photo", web::post().to(photos::upload))
        .route("/profile/photo/remove", web::post().to(photos::remove))
        .route("/sign-out", web::post().to(sign_out::sign_out))
        .route("/static/site.css", web::get().to(assets::stylesheet))
        .route("/static/favicon.svg", web::get().to(assets::favicon))
        .route("/favicon.ico", web::get().to(assets::favicon));
}
