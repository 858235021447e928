//! Reading an OAuth form request: method, URL, content type, size, then the form itself.

use actix_web::http::header;
use actix_web::{HttpMessage as _, HttpRequest, HttpResponse, ResponseError as _, web};

use crate::error::Error;
use crate::oauth::client_auth::{PresentedClient, presented_client};
use crate::oauth::error::OAuthError;
use crate::oauth::form::FormParams;

/// Largest body accepted by the OAuth endpoints. A sign-in needs well under 2 KiB; Argon2
/// never sees more than [`crate::oauth::password::MAX_PASSWORD_BYTES`].
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// Parameters that carry credentials or tokens and so must never travel in the URL
/// (RFC 6749 §2.3.1: "MUST NOT be included in the request URI").
const SECRET_PARAMETERS: [&str; 6] = [
    "client_id",
    "client_secret",
    "password",
    "username",
    "refresh_token",
    "token",
];

/// 405 with `Allow: POST` for any other method (RFC 9110 §15.5.6).
pub async fn method_not_allowed() -> HttpResponse {
    Error::MethodNotAllowed.error_response()
}

/// Reads the form body of an OAuth request and the client's credentials.
pub async fn read_request(
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<(FormParams, PresentedClient), Error> {
    let query = req.query_string();
    if !query.is_empty() {
        let in_url = FormParams::parse(query.as_bytes())?;
        if SECRET_PARAMETERS.iter().any(|p| in_url.contains(p)) {
            return Err(OAuthError::invalid_request(
                "credentials and tokens must not be sent in the URL",
            )
            .into());
        }
    }
    let is_form = matches!(req.mime_type(), Ok(Some(m)) if m.essence_str() == "application/x-www-form-urlencoded");
    if !is_form {
        return Err(OAuthError::invalid_request(
            "the body must be application/x-www-form-urlencoded",
        )
        .into());
    }
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return Err(Error::BodyTooLarge);
    }
    let body = payload
        .to_bytes_limited(MAX_BODY_BYTES)
        .await
        .map_err(|_| Error::BodyTooLarge)?
        .map_err(|_| OAuthError::invalid_request("the request body could not be read"))?;
    let params = FormParams::parse(&body)?;
    let mut authorization = req.headers().get_all(header::AUTHORIZATION);
    let first = authorization.next();
    if authorization.next().is_some() {
        return Err(
            OAuthError::invalid_request("more than one Authorization header was sent").into(),
        );
    }
    let client = presented_client(first.map(|v| v.as_bytes()), &params)?;
    Ok((params, client))
}
