//! Assertions on answers: the OAuth error of RFC 6749 §5.2, the bearer challenges of RFC 6750,
//! RFC 9457 problems, the no-store headers, and reading a header.

use reqwest::{Response, StatusCode};
use serde_json::Value;

/// The value of a response header.
pub fn header<'a>(response: &'a Response, name: &str) -> Option<&'a str> {
    response.headers().get(name).and_then(|v| v.to_str().ok())
}

/// Asserts the headers every token, revocation and introspection response carries.
pub fn assert_no_store(response: &Response) {
    assert_eq!(
        header(response, "cache-control"),
        Some("no-store"),
        "Cache-Control"
    );
    assert_eq!(header(response, "pragma"), Some("no-cache"), "Pragma");
}

/// Asserts a 200 JSON response with no-store headers and returns the body.
pub async fn ok_json(response: Response) -> Value {
    let status = response.status();
    assert_no_store(&response);
    let body = response.text().await.unwrap();
    assert_eq!(status, StatusCode::OK, "body: {body}");
    serde_json::from_str(&body).unwrap()
}

/// Asserts an RFC 6749 §5.2 error: status, code, JSON, no-store, and a description within
/// %x20-21 / %x23-5B / %x5D-7E. Returns the body.
pub async fn assert_oauth_error(response: Response, status: u16, code: &str) -> Value {
    assert_eq!(response.status().as_u16(), status, "status");
    assert_no_store(&response);
    assert!(
        header(&response, "content-type").is_some_and(|c| c.starts_with("application/json")),
        "Content-Type"
    );
    if status == 401 {
        assert_eq!(
            header(&response, "www-authenticate"),
            Some("Basic realm=\"staff-directory\"")
        );
    }
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], code, "error code in {body}");
    for field in ["error", "error_description"] {
        if let Some(text) = body[field].as_str() {
            assert!(
                text.bytes().all(|b| b == 0x20
                    || b == 0x21
                    || (0x23..=0x5B).contains(&b)
                    || (0x5D..=0x7E).contains(&b)),
                "{field} has characters outside RFC 6749 §5.2's set: {text:?}"
            );
        }
    }
    body
}

/// Asserts an RFC 9457 problem: status, `code`, content type. Returns the body.
pub async fn assert_problem(response: Response, status: u16, code: &str) -> Value {
    assert_eq!(response.status().as_u16(), status, "status");
    assert_eq!(
        header(&response, "content-type"),
        Some("application/problem+json")
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], code, "problem code in {body}");
    assert_eq!(body["status"], status);
    assert!(body["title"].is_string() && body["detail"].is_string() && body["type"].is_string());
    body
}

/// Asserts the RFC 6750 answer to a request without credentials: 401, a bare challenge.
pub async fn assert_unauthenticated(response: Response) {
    assert_eq!(
        header(&response, "www-authenticate"),
        Some("Bearer realm=\"staff-directory\"")
    );
    assert_problem(response, 401, "unauthenticated").await;
}

/// Asserts RFC 6750 `invalid_token`: 401 with the error in the challenge.
pub async fn assert_invalid_token(response: Response) -> Value {
    let challenge = header(&response, "www-authenticate")
        .unwrap_or_default()
        .to_owned();
    assert!(
        challenge.starts_with("Bearer realm=\"staff-directory\", error=\"invalid_token\""),
        "{challenge}"
    );
    assert_problem(response, 401, "invalid_token").await
}

/// Asserts RFC 6750 `insufficient_scope` naming `scope`.
pub async fn assert_insufficient_scope(response: Response, scope: &str) {
    let challenge = header(&response, "www-authenticate")
        .unwrap_or_default()
        .to_owned();
    assert_eq!(
        challenge,
        format!(
            "Bearer realm=\"staff-directory\", error=\"insufficient_scope\", scope=\"{scope}\""
        )
    );
    assert_problem(response, 403, "insufficient_scope").await;
}
