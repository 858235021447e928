//! The stylesheet, compiled into the binary.

use actix_web::HttpResponse;
use actix_web::http::header;

const SITE_CSS: &str = include_str!("../../static/site.css");
const FAVICON: &str = include_str!("../../static/favicon.svg");

/// `GET /static/favicon.svg` (and `/favicon.ico`, which browsers ask for by themselves).
pub async fn favicon() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("image/svg+xml")
        .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
        .body(FAVICON)
}

/// `GET /static/site.css`.
pub async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(SITE_CSS)
}
