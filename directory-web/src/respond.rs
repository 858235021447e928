//! How the website answers a browser: a page rendered from its template, public or private to
//! the session, and a See Other redirect. Shared by the routes and the extractors (whose
//! rejection of a visitor who is not signed in is the redirect to the sign-in form).

use actix_web::HttpResponse;
use actix_web::http::{StatusCode, header};
use askama::Template;

use crate::error::WebError;
use crate::headers::PRIVATE_NO_STORE;

fn rendered(page: &impl Template) -> Result<String, WebError> {
    page.render()
        .map_err(|e| WebError::Unexpected(anyhow::anyhow!("template: {e}")))
}

/// A public page, 200, with the caching the site's middleware gives it (see
/// `crate::headers::private_pages`).
pub fn html(page: &impl Template) -> Result<HttpResponse, WebError> {
    let body = rendered(page)?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(body))
}

/// A page for one person's session (the sign-in form, the profile, sign-out's outcome):
/// `Cache-Control: private, no-store` whoever asked.
pub fn private_html(page: &impl Template, status: StatusCode) -> Result<HttpResponse, WebError> {
    let body = rendered(page)?;
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, PRIVATE_NO_STORE))
        .body(body))
}

/// 303 See Other to `location`, never cached (RFC 9110 §15.4.4: the browser follows it with
/// a GET, so a form is not sent twice).
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, PRIVATE_NO_STORE))
        .finish()
}
