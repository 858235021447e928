//! The one error type of the API and its mapping to RFC 9457 problem responses, with the
//! RFC 6750 `WWW-Authenticate` challenges on 401 and scope-related 403s.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::field::FieldError;
use crate::domain::photo::PhotoRejection;

/// The realm of the Bearer challenges.
pub const REALM: &str = "staff-directory";

/// Shorthand for results of this service.
pub type Result<T, E = ApiError> = std::result::Result<T, E>;

/// Everything a request can fail with. Each variant's doc says its status and whether its
/// text reaches the client.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 401, `WWW-Authenticate: Bearer realm="…"` with no error code: the request carried no
    /// bearer token at all (RFC 6750 §3.1: "SHOULD NOT include an error code").
    #[error("authentication required")]
    Unauthenticated,
    /// 401, `error="invalid_token"`: the token is malformed, expired, not ours… The reason is
    /// a fixed text and is shown (it names no secret).
    #[error("invalid token: {0}")]
    InvalidToken(&'static str),
    /// 400, `error="invalid_request"`: the credentials were sent in a malformed way (for
    /// example two `Authorization` headers).
    #[error("invalid request: {0}")]
    InvalidAuthRequest(&'static str),
    /// 403, `error="insufficient_scope", scope="…"`: a good token without the scope needed.
    #[error("insufficient scope: {0} needed")]
    InsufficientScope(&'static str),
    /// 403 `user_token_required`: the route acts for a person and the token is a client's.
    #[error("a member of staff's token is required")]
    UserTokenRequired,
    /// 403 `not_owner`: the scope was sufficient, but the record is someone else's.
    #[error("not the caller's own record")]
    NotOwner,
    /// 403 `hr_owned_field`: a member of staff tried to change fields that only HR may change.
    #[error("fields owned by HR")]
    HrOwnedFields(Vec<&'static str>),
    /// 400 `invalid_input`: bad input, with every bad field listed.
    #[error("invalid input")]
    InvalidInput(Vec<FieldError>),
    /// 400 `malformed_request`: the body or a parameter could not be read at all; the
    /// parser's message is shown (it describes the client's own input).
    #[error("malformed request: {0}")]
    Malformed(String),
    /// 404: no such (live) record, or no such route.
    #[error("not found")]
    NotFound,
    /// 405 with `Allow`.
    #[error("method not allowed")]
    MethodNotAllowed(&'static str),
    /// 409 `username_taken`.
    #[error("username taken")]
    UsernameTaken,
    /// 412: the `If-Match` ETag is not the current one; the current ETag is sent.
    #[error("precondition failed")]
    PreconditionFailed(String),
    /// 413: the body is over the limit.
    #[error("payload too large")]
    PayloadTooLarge,
    /// 415: the body is not JSON.
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// 413 `payload_too_large`: a photo over 5 MB, refused before its body was read whole.
    #[error("photo too large")]
    PhotoTooLarge,
    /// A photo refused for what it is: 415 `unsupported_photo_type` (not JPEG, PNG or WebP),
    /// 422 `photo_too_many_pixels` or `corrupt_photo`. The reason is shown (it describes the
    /// client's own file).
    #[error("photo refused: {0}")]
    Photo(PhotoRejection),
    /// 404 `no_photo`: the record exists and has no photo.
    #[error("no photo")]
    NoPhoto,
    /// 428: PATCH without `If-Match` (RFC 6585 §3).
    #[error("precondition required")]
    PreconditionRequired,
    /// 428, the same problem as [`ApiError::PreconditionRequired`]: PATCH with `If-Match: *`,
    /// which any existing record meets (RFC 9110 §13.1.1), so it would skip the lost-update
    /// check; the record's own ETag is asked for instead. The current ETag is not sent back:
    /// a client that copied it blindly would overwrite what it never read.
    #[error("If-Match: * is not accepted")]
    WildcardIfMatch,
    /// 503 with `Retry-After`: the signing keys cannot be had, or the database is down. The
    /// cause is logged, not shown.
    #[error("service unavailable")]
    Unavailable(anyhow::Error),
    /// 500: anything unexpected. The cause chain is logged once, here, and never shown.
    #[error("unexpected error")]
    Unexpected(anyhow::Error),
}

impl From<anyhow::Error> for ApiError {
    /// The database being out of reach (see [`service_kit::db::is_unreachable`]) is a 503
    /// the client may retry; anything else is a 500.
    fn from(e: anyhow::Error) -> Self {
        if service_kit::db::is_unreachable(&e) {
            Self::Unavailable(e)
        } else {
            Self::Unexpected(e)
        }
    }
}

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem (`about:blank` when the status says it all).
    #[serde(rename = "type")]
    pub type_: String,
    /// A short summary of the kind of problem.
    pub title: &'static str,
    /// The HTTP status.
    pub status: u16,
    /// What went wrong this time.
    pub detail: String,
    /// A stable, short code for programs (`not_owner`, `invalid_input`, …).
    pub code: &'static str,
    /// For `invalid_input`: every bad field and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
    /// For `hr_owned_field`: the fields refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fields: Option<Vec<&'static str>>,
}

impl ApiError {
    /// The stable code of the problem.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthenticated => "unauthenticated",
            Self::InvalidToken(_) => "invalid_token",
            Self::InvalidAuthRequest(_) => "invalid_request",
            Self::InsufficientScope(_) => "insufficient_scope",
            Self::UserTokenRequired => "user_token_required",
            Self::NotOwner => "not_owner",
            Self::HrOwnedFields(_) => "hr_owned_field",
            Self::InvalidInput(_) => "invalid_input",
            Self::Malformed(_) => "malformed_request",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed(_) => "method_not_allowed",
            Self::UsernameTaken => "username_taken",
            Self::PreconditionFailed(_) => "precondition_failed",
            Self::PayloadTooLarge => "payload_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::PhotoTooLarge => "payload_too_large",
            Self::Photo(why) => why.code(),
            Self::NoPhoto => "no_photo",
            Self::PreconditionRequired | Self::WildcardIfMatch => "precondition_required",
            Self::Unavailable(_) => "unavailable",
            Self::Unexpected(_) => "internal_error",
        }
    }

    fn title_and_detail(&self) -> (&'static str, String) {
        match self {
            Self::Unauthenticated => ("Authentication required", "send an access token: Authorization: Bearer <token>".into()),
            Self::InvalidToken(why) => ("Invalid access token", (*why).into()),
            Self::InvalidAuthRequest(why) => ("Invalid request", (*why).into()),
            Self::InsufficientScope(scope) => ("Insufficient scope", format!("this request needs a token with the scope {scope}")),
            Self::UserTokenRequired => (
                "A member of staff's token is required",
                "this request acts for a signed-in member of staff; a client's own token cannot make it".into(),
            ),
            Self::NotOwner => (
                "Not your record",
                "a member of staff may change only their own record".into(),
            ),
            Self::HrOwnedFields(fields) => (
                "Field owned by HR",
                format!("only HR may change {}; staff may change phone, office, bio and research_interests", fields.join(", ")),
            ),
            Self::InvalidInput(errors) => (
                "Invalid input",
                errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; "),
            ),
            Self::Malformed(why) => ("Malformed request", why.clone()),
            Self::NotFound => ("Not Found", "no such resource".into()),
            Self::MethodNotAllowed(allow) => ("Method Not Allowed", format!("allowed: {allow}")),
            Self::UsernameTaken => ("Username taken", "a record with this username already exists".into()),
            Self::PreconditionFailed(_) => (
                "Precondition Failed",
                "the record has changed since you read it: read it again and reapply your change".into(),
            ),
            Self::PayloadTooLarge => ("Content Too Large", "the request body is too large".into()),
            Self::UnsupportedMediaType => ("Unsupported Media Type", "send the body as application/json".into()),
            Self::PhotoTooLarge => ("Content Too Large", "a photo may be at most 5 MB (5242880 bytes)".into()),
            Self::Photo(why) => (why.title(), why.detail()),
            Self::NoPhoto => ("No photo", "this record has no photo".into()),
            Self::PreconditionRequired => (
                "Precondition Required",
                "send If-Match with the ETag of the record you read, so that a concurrent change is not overwritten".into(),
            ),
            Self::WildcardIfMatch => (
                "Precondition Required",
                "If-Match: * is not accepted: it matches any version, so a concurrent change would be overwritten; send If-Match with the record's ETag, as read with GET /staff/{id}".into(),
            ),
            Self::Unavailable(_) => ("Service Unavailable", "the service cannot answer right now; retry shortly".into()),
            Self::Unexpected(_) => ("Internal Server Error", "the server could not complete the request".into()),
        }
    }

    fn problem_type(&self) -> String {
        match self {
            Self::NotFound
            | Self::MethodNotAllowed(_)
            | Self::PayloadTooLarge
            | Self::PhotoTooLarge
            | Self::UnsupportedMediaType
            | Self::PreconditionFailed(_)
            | Self::PreconditionRequired
            | Self::WildcardIfMatch
            | Self::Unavailable(_)
            | Self::Unexpected(_) => "about:blank".into(),
            other => format!("urn:staff-directory:problem:{}", other.code()),
        }
    }

    fn challenge(&self) -> Option<String> {
        match self {
            Self::Unauthenticated => Some(format!("Bearer realm=\"{REALM}\"")),
            Self::InvalidToken(why) => Some(format!(
                "Bearer realm=\"{REALM}\", error=\"invalid_token\", error_description=\"{why}\""
            )),
            Self::InvalidAuthRequest(why) => Some(format!(
                "Bearer realm=\"{REALM}\", error=\"invalid_request\", error_description=\"{why}\""
            )),
            Self::InsufficientScope(scope) => Some(format!(
                "Bearer realm=\"{REALM}\", error=\"insufficient_scope\", scope=\"{scope}\""
            )),
            _ => None,
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Unauthenticated | Self::InvalidToken(_) => StatusCode::UNAUTHORIZED,
            Self::InvalidAuthRequest(_) | Self::InvalidInput(_) | Self::Malformed(_) => {
                StatusCode::BAD_REQUEST
            }
            Self::InsufficientScope(_)
            | Self::UserTokenRequired
            | Self::NotOwner
            | Self::HrOwnedFields(_) => StatusCode::FORBIDDEN,
            Self::NotFound | Self::NoPhoto => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::UsernameTaken => StatusCode::CONFLICT,
            Self::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            Self::PayloadTooLarge | Self::PhotoTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Photo(why) => {
                StatusCode::from_u16(why.status()).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY)
            }
            Self::PreconditionRequired | Self::WildcardIfMatch => StatusCode::PRECONDITION_REQUIRED,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let mut builder = HttpResponse::build(status);
        builder
            .content_type("application/problem+json")
            .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")));
        if let Some(challenge) = self.challenge() {
            builder.insert_header((header::WWW_AUTHENTICATE, challenge));
        }
        match self {
            Self::MethodNotAllowed(allow) => {
                builder.insert_header((header::ALLOW, *allow));
            }
            Self::PreconditionFailed(etag) => {
                builder.insert_header((header::ETAG, etag.as_str()));
            }
            Self::Unavailable(cause) => {
                tracing::warn!(error = format!("{cause:#}"), "answering 503");
                builder.insert_header((header::RETRY_AFTER, "5"));
            }
            Self::Unexpected(cause) => {
                tracing::error!(error = format!("{cause:#}"), "request failed unexpectedly");
            }
            _ => {}
        }
        let (title, detail) = self.title_and_detail();
        builder.json(Problem {
            type_: self.problem_type(),
            title,
            status: status.as_u16(),
            detail,
            code: self.code(),
            errors: match self {
                Self::InvalidInput(errors) => Some(errors.clone()),
                _ => None,
            },
            fields: match self {
                Self::HrOwnedFields(fields) => Some(fields.clone()),
                _ => None,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(r: &HttpResponse, name: header::HeaderName) -> Option<String> {
        r.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    #[test]
    fn no_token_is_a_bare_challenge() {
        let r = ApiError::Unauthenticated.error_response();
        assert_eq!(r.status(), 401);
        assert_eq!(
            header(&r, header::WWW_AUTHENTICATE).as_deref(),
            Some("Bearer realm=\"staff-directory\"")
        );
        assert_eq!(
            header(&r, header::CONTENT_TYPE).as_deref(),
            Some("application/problem+json")
        );
    }

    #[test]
    fn a_bad_token_names_invalid_token() {
        let r = ApiError::InvalidToken("the token has expired").error_response();
        assert_eq!(r.status(), 401);
        assert!(
            header(&r, header::WWW_AUTHENTICATE)
                .unwrap()
                .contains("error=\"invalid_token\"")
        );
    }

    #[test]
    fn scope_and_ownership_are_distinct_403s() {
        let scope = ApiError::InsufficientScope("profile:write").error_response();
        assert_eq!(scope.status(), 403);
        assert!(
            header(&scope, header::WWW_AUTHENTICATE)
                .unwrap()
                .contains("scope=\"profile:write\"")
        );
        let owner = ApiError::NotOwner.error_response();
        assert_eq!(owner.status(), 403);
        assert!(header(&owner, header::WWW_AUTHENTICATE).is_none());
        assert_eq!(
            ApiError::NotOwner.problem_type(),
            "urn:staff-directory:problem:not_owner"
        );
    }

    #[test]
    fn preconditions_map_to_412_and_428() {
        assert_eq!(
            ApiError::PreconditionFailed("\"v2\"".into()).status_code(),
            412
        );
        assert_eq!(ApiError::PreconditionRequired.status_code(), 428);
        let wildcard = ApiError::WildcardIfMatch.error_response();
        assert_eq!(wildcard.status(), 428);
        assert!(header(&wildcard, header::ETAG).is_none());
        assert_eq!(
            ApiError::WildcardIfMatch.code(),
            ApiError::PreconditionRequired.code()
        );
        assert_eq!(
            ApiError::Unexpected(anyhow::anyhow!("x")).status_code(),
            500
        );
    }
}
