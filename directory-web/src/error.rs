//! The one error type of the website, answered as an HTML error page.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpResponse, ResponseError};
use askama::Template as _;

use crate::views::ErrorPage;

/// Everything a page can fail with. Each variant's doc says its status and what the visitor
/// is told; causes are logged, never shown.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// 400: the address or form holds something unusable; the reason is shown.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// 403: a form without the session's CSRF token, or sent from another site.
    #[error("forbidden")]
    Forbidden,
    /// 404: no such page or person.
    #[error("not found")]
    NotFound,
    /// 413: a form larger than the site accepts.
    #[error("payload too large")]
    PayloadTooLarge,
    /// 503 with `Retry-After`: the directory API or the authorization server is out of reach.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// 500: anything unexpected.
    #[error("unexpected: {0:#}")]
    Unexpected(#[from] anyhow::Error),
}

impl ResponseError for WebError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let (heading, message) = match self {
            Self::BadRequest(why) => ("Something in that address is not right".to_owned(), why.clone()),
            Self::Forbidden => (
                "This form could not be accepted".to_owned(),
                "The form was sent without this site's security token, or from another site. Go back, reload the page and try again.".to_owned(),
            ),
            Self::NotFound => (
                "Page not found".to_owned(),
                "There is no page at this address. The person may have left, or the link may be mistyped.".to_owned(),
            ),
            Self::PayloadTooLarge => (
                "That form is too large".to_owned(),
                "The form sent was larger than this site accepts. Shorten what you entered and try again.".to_owned(),
            ),
            Self::Unavailable(cause) => {
                tracing::warn!(cause = %cause, "answering 503");
                (
                    "The directory is unavailable".to_owned(),
                    "The staff directory cannot be reached right now. Please try again in a minute.".to_owned(),
                )
            }
            Self::Unexpected(cause) => {
                tracing::error!(error = format!("{cause:#}"), "page failed unexpectedly");
                (
                    "Something went wrong".to_owned(),
                    "The page could not be shown. Please try again later.".to_owned(),
                )
            }
        };
        let status = self.status_code();
        let page = ErrorPage {
            title: format!("{} {heading} — Staff directory", status.as_u16()),
            token_used: "no token (nothing was fetched for this page)".to_owned(),
            account: crate::views::Account::default(),
            status: status.as_u16(),
            heading,
            message,
        };
        let mut response = HttpResponse::build(status);
        response.content_type("text/html; charset=utf-8");
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response.insert_header((header::RETRY_AFTER, "30"));
        }
        match page.render() {
            Ok(html) => response.body(html),
            Err(e) => {
                tracing::error!(error = %e, "error page failed to render");
                response
                    .content_type("text/plain; charset=utf-8")
                    .body("error")
            }
        }
    }
}
