//! The pages of the authorization endpoint (askama): the sign-in page and the error page, and
//! the headers every one of them carries: `no-store` (RFC 6749 §4.1.2 responses carry codes;
//! the page carries a CSRF token), a Content-Security-Policy that forbids framing
//! (`frame-ancestors 'none'`, against clickjacking, RFC 6749 §10.13) and scripts, and no
//! `Referer` (the page's URL carries the request's `state`).

use actix_web::HttpResponse;
use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::http::StatusCode;
use actix_web::http::header;
use askama::Template;

use crate::error::Error;
use crate::oauth::authorize::{AuthorizationRequest, REQUEST_PARAMETERS};
use crate::oauth::device::DEVICE_TOKEN_TTL_SECS;
use crate::oauth::form::FormParams;
use crate::oauth::form_guard::FORM_TTL_SECS;
use crate::oauth::scope::Scope;

/// The cookie holding the sign-in form's CSRF nonce. No cookie of the website bears this
/// name (cookies ignore ports, and the demo serves both on one host).
pub const FORM_COOKIE: &str = "as-sign-in-form";
/// The cookie holding this browser's device token (see `oauth::device`), scoped to the
/// authorization endpoint; distinct from the website's `sd-device`.
pub const DEVICE_COOKIE: &str = "as-device";
/// The path both cookies are scoped to.
const COOKIE_PATH: &str = "/oauth/authorize";

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage<'a> {
    client: &'a str,
    scopes: Vec<&'static str>,
    return_to: String,
    error: Option<&'a str>,
    csrf: &'a str,
    hidden: Vec<(&'static str, &'a str)>,
    username: &'a str,
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    message: &'a str,
}

/// What a scope lets the application do, in plain words.
fn in_plain_words(scope: Scope) -> &'static str {
    match scope {
        Scope::DirectoryRead => "read the staff directory as you",
        Scope::ProfileWrite => {
            "change the fields of your own directory record that staff may edit (phone, office, biography, research interests)"
        }
        Scope::DirectoryAdmin => "create, change and retire any record of the directory",
    }
}

/// The origin (`scheme://host:port`) of a URI, for the page's text and its CSP.
fn origin(uri: &str) -> String {
    url::Url::parse(uri)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default()
}

/// The headers of every page and redirect of the endpoint. `form_target` is the origin the
/// form may finally lead to (the redirect URI's), as CSP `form-action` also governs the
/// redirects that follow a form's submission.
pub fn page_headers(
    status: StatusCode,
    form_target: Option<&str>,
) -> actix_web::HttpResponseBuilder {
    let form_action = match form_target {
        Some(target) => format!("form-action 'self' {target}"),
        None => "form-action 'none'".to_owned(),
    };
    let mut builder = HttpResponse::build(status);
    builder
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            format!(
                "default-src 'none'; style-src 'self'; {form_action}; frame-ancestors 'none'; base-uri 'none'"
            ),
        ))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"));
    builder
}

/// The sign-in page for `request`, carrying the request's parameters (as `params` sent them)
/// in hidden fields, with `error` shown when a sign-in failed.
pub struct SignInView<'a> {
    /// The checked request.
    pub request: &'a AuthorizationRequest,
    /// The request's parameters as sent.
    pub params: &'a FormParams,
    /// The form's CSRF token and the nonce for its cookie.
    pub csrf: (&'a str, &'a str),
    /// The username typed before, if any.
    pub username: &'a str,
    /// Why the last attempt failed.
    pub error: Option<&'a str>,
    /// Whether cookies are `Secure`.
    pub secure: bool,
}

impl SignInView<'_> {
    /// Renders the page with `status`.
    pub fn respond(&self, status: StatusCode) -> Result<HttpResponse, Error> {
        let (nonce, token) = self.csrf;
        let target = origin(self.request.redirect_uri.as_str());
        let page = SignInPage {
            client: self.request.client.client_id.as_str(),
            scopes: self.request.scope.iter().map(in_plain_words).collect(),
            return_to: target.clone(),
            error: self.error,
            csrf: token,
            hidden: REQUEST_PARAMETERS
                .iter()
                .filter_map(|name| self.params.get(name).map(|v| (*name, v)))
                .collect(),
            username: self.username,
        }
        .render()
        .map_err(|e| Error::Unexpected(anyhow::anyhow!("sign-in page: {e}")))?;
        let cookie = Cookie::build(FORM_COOKIE, nonce.to_owned())
            .path(COOKIE_PATH)
            .http_only(true)
            .secure(self.secure)
            .same_site(SameSite::Strict)
            .max_age(CookieDuration::seconds(FORM_TTL_SECS))
            .finish();
        Ok(page_headers(status, Some(&target))
            .cookie(cookie)
            .content_type("text/html; charset=utf-8")
            .body(page))
    }
}

/// The error page: the request cannot go on and is not redirected.
pub fn error_page(status: StatusCode, message: &str) -> Result<HttpResponse, Error> {
    let page = ErrorPage { message }
        .render()
        .map_err(|e| Error::Unexpected(anyhow::anyhow!("error page: {e}")))?;
    Ok(page_headers(status, None)
        .content_type("text/html; charset=utf-8")
        .body(page))
}

/// The device cookie for the device token a sign-in issued.
pub fn device_cookie(token: String, secure: bool) -> Cookie<'static> {
    Cookie::build(DEVICE_COOKIE, token)
        .path(COOKIE_PATH)
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Strict)
        .max_age(CookieDuration::seconds(DEVICE_TOKEN_TTL_SECS))
        .finish()
}

/// The stylesheet of the pages.
pub async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .content_type("text/css; charset=utf-8")
        .body(include_str!("../../static/sign-in.css"))
}
