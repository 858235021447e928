//! The one error type of the auth server and its mapping to HTTP responses.
//!
//! Every response of the token, revocation and introspection endpoints, success or not,
//! carries `Cache-Control: no-store` and `Pragma: no-cache` (RFC 6749 §5.1, §5.2).

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, HttpResponseBuilder, ResponseError};
use serde::Serialize;

use crate::oauth::error::{ErrorCode, OAuthError};

/// The realm named in `WWW-Authenticate: Basic` challenges.
pub const REALM: &str = "staff-directory";

/// Shorthand for results of this service.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong while answering a request.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An RFC 6749 §5.2 error. 400, except `invalid_client`: 401 with
    /// `WWW-Authenticate: Basic` (§5.2 requires it when Basic was used; HTTP requires the
    /// header on every 401), and throttled requests: 429 with `Retry-After`. The
    /// description is a fixed text and is shown.
    #[error(transparent)]
    OAuth(#[from] OAuthError),
    /// 413: the body is over the limit; refused before it is read in full.
    #[error("request body too large")]
    BodyTooLarge,
    /// 405 with `Allow: POST`: the OAuth endpoints take POST only (RFC 6749 §3.2).
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 503 `temporarily_unavailable` with `Retry-After`: the database cannot be reached right
    /// now (see [`service_kit::db::is_unreachable`]); a retry may succeed. The cause is
    /// logged, not shown.
    #[error("service unavailable")]
    Unavailable(anyhow::Error),
    /// 503 `temporarily_unavailable` with `Retry-After: 1`: too many sign-ins are already
    /// waiting for a password hash ([`crate::oauth::hashing::Busy`]); nothing was checked or
    /// counted, and a retry in a moment may succeed. (`temporarily_unavailable` is defined for
    /// the authorization endpoint, RFC 6749 §4.1.2.1; answering it from the token endpoint is
    /// an extension of §5.2.)
    #[error("overloaded")]
    Overloaded,
    /// 500: anything unexpected. The cause chain is logged once, here at the boundary, and
    /// never shown: the body says only `server_error`.
    #[error("unexpected error")]
    Unexpected(anyhow::Error),
}

/// Seconds a client is asked to wait before retrying when the database is out of reach.
pub const RETRY_AFTER_UNAVAILABLE_SECS: u32 = 5;
/// Seconds a client is asked to wait before retrying a sign-in shed by a full hashing queue.
pub const RETRY_AFTER_OVERLOADED_SECS: u32 = 1;

impl From<anyhow::Error> for Error {
    /// The database being out of reach is a 503 the client may retry; anything else is a 500.
    fn from(e: anyhow::Error) -> Self {
        if service_kit::db::is_unreachable(&e) {
            Self::Unavailable(e)
        } else {
            Self::Unexpected(e)
        }
    }
}

impl From<crate::oauth::hashing::Busy> for Error {
    /// No place in the hashing queue: 503, retry in a moment.
    fn from(_: crate::oauth::hashing::Busy) -> Self {
        Self::Overloaded
    }
}

#[derive(Serialize)]
struct ErrorBody {
    error: &'static str,
    error_description: &'static str,
}

/// Adds `Cache-Control: no-store` and `Pragma: no-cache` to a response under construction.
pub fn no_store(mut builder: HttpResponseBuilder) -> HttpResponseBuilder {
    builder
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .insert_header((header::PRAGMA, HeaderValue::from_static("no-cache")));
    builder
}

impl Error {
    fn body(&self) -> ErrorBody {
        match self {
            Self::OAuth(e) => ErrorBody {
                error: e.code.as_str(),
                error_description: e.description,
            },
            Self::BodyTooLarge => ErrorBody {
                error: ErrorCode::InvalidRequest.as_str(),
                error_description: "the request body is too large",
            },
            Self::MethodNotAllowed => ErrorBody {
                error: ErrorCode::InvalidRequest.as_str(),
                error_description: "this endpoint accepts POST only",
            },
            // The code RFC 6749 §4.1.2.1 defines for a server that is temporarily unable to
            // handle a request.
            Self::Unavailable(_) => ErrorBody {
                error: "temporarily_unavailable",
                error_description: "the server cannot handle the request right now; retry shortly",
            },
            Self::Overloaded => ErrorBody {
                error: "temporarily_unavailable",
                error_description: "too many sign-ins are waiting; retry in a moment",
            },
            Self::Unexpected(_) => ErrorBody {
                error: "server_error",
                error_description: "the server could not complete the request",
            },
        }
    }

    /// The OAuth error code answered, for metrics.
    pub fn code(&self) -> &'static str {
        self.body().error
    }
}

impl ResponseError for Error {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::OAuth(e) if e.retry_after.is_some() => StatusCode::TOO_MANY_REQUESTS,
            Self::OAuth(e) if e.code == ErrorCode::InvalidClient => StatusCode::UNAUTHORIZED,
            Self::OAuth(_) => StatusCode::BAD_REQUEST,
            Self::BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Unavailable(_) | Self::Overloaded => StatusCode::SERVICE_UNAVAILABLE,
            Self::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut builder = no_store(HttpResponse::build(self.status_code()));
        match self {
            Self::OAuth(e) => {
                if let Some(seconds) = e.retry_after {
                    builder.insert_header((header::RETRY_AFTER, seconds.to_string()));
                }
                if self.status_code() == StatusCode::UNAUTHORIZED {
                    builder.insert_header((
                        header::WWW_AUTHENTICATE,
                        format!("Basic realm=\"{REALM}\""),
                    ));
                }
            }
            Self::MethodNotAllowed => {
                builder.insert_header((header::ALLOW, "POST"));
            }
            Self::Unavailable(cause) => {
                tracing::warn!(error = format!("{cause:#}"), "answering 503");
                builder.insert_header((
                    header::RETRY_AFTER,
                    RETRY_AFTER_UNAVAILABLE_SECS.to_string(),
                ));
            }
            Self::Overloaded => {
                builder
                    .insert_header((header::RETRY_AFTER, RETRY_AFTER_OVERLOADED_SECS.to_string()));
            }
            Self::Unexpected(cause) => {
                tracing::error!(error = format!("{cause:#}"), "request failed unexpectedly");
            }
            Self::BodyTooLarge => {}
        }
        builder.json(self.body())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(r: &HttpResponse, name: header::HeaderName) -> Option<&str> {
        r.headers().get(name).and_then(|v| v.to_str().ok())
    }

    #[test]
    fn invalid_client_is_401_with_a_basic_challenge() {
        let r = Error::OAuth(OAuthError::invalid_client()).error_response();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            header(&r, header::WWW_AUTHENTICATE),
            Some("Basic realm=\"staff-directory\"")
        );
        assert_eq!(header(&r, header::CACHE_CONTROL), Some("no-store"));
        assert_eq!(header(&r, header::PRAGMA), Some("no-cache"));
    }

    #[test]
    fn other_oauth_errors_are_400_without_challenge() {
        let r = Error::OAuth(OAuthError::invalid_grant("x")).error_response();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        assert!(header(&r, header::WWW_AUTHENTICATE).is_none());
    }

    #[test]
    fn throttled_is_429_with_retry_after() {
        let r =
            Error::OAuth(OAuthError::throttled(ErrorCode::InvalidGrant, "x", 42)).error_response();
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(header(&r, header::RETRY_AFTER), Some("42"));
    }

    #[test]
    fn unexpected_is_an_opaque_500() {
        let e = Error::Unexpected(anyhow::anyhow!("secret detail"));
        assert_eq!(e.status_code(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(e.code(), "server_error");
    }

    #[test]
    fn an_unreachable_database_is_a_503_with_retry_after() {
        let e = Error::from(anyhow::Error::new(sqlx::Error::PoolTimedOut).context("loading"));
        let r = e.error_response();
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(header(&r, header::RETRY_AFTER), Some("5"));
        assert_eq!(header(&r, header::CACHE_CONTROL), Some("no-store"));
        assert_eq!(e.code(), "temporarily_unavailable");
        let other = Error::from(anyhow::Error::new(sqlx::Error::RowNotFound));
        assert_eq!(other.status_code(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn a_full_hashing_queue_is_a_503_with_retry_after() {
        let e = Error::from(crate::oauth::hashing::Busy);
        let r = e.error_response();
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(header(&r, header::RETRY_AFTER), Some("1"));
        assert_eq!(header(&r, header::CACHE_CONTROL), Some("no-store"));
        assert_eq!(e.code(), "temporarily_unavailable");
    }

    #[test]
    fn method_not_allowed_names_post() {
        let r = Error::MethodNotAllowed.error_response();
        assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(header(&r, header::ALLOW), Some("POST"));
    }
}
