//! What a refused password grant says about the person signing in: told apart by the HTTP
//! status the authorization server answers and its `Retry-After`, never by the wording of its
//! `error_description`, which is for people and may change.

use std::sync::Mutex;

use oauth2::basic::BasicErrorResponseType;

use super::SignInError;

/// The status and `Retry-After` (delta-seconds, RFC 9110 §10.2.3) of the last response.
pub(super) type Seen = Mutex<Option<(u16, Option<u64>)>>;

/// `Retry-After` in delta-seconds; `None` when absent or an HTTP-date (the authorization
/// server sends seconds).
pub(super) fn retry_after_secs(headers: &oauth2::http::HeaderMap) -> Option<u64> {
    headers
        .get(oauth2::http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// What an error answer to the password grant says about the person signing in, from its HTTP
/// status and `Retry-After` (`seen`) and its error code (RFC 6749 §5.2), never from its
/// `error_description`, which is for people and may change. `None` when it says nothing
/// about them: the authorization server could not serve the sign-in.
///
/// - 429 is the lock (RFC 6585 §4: the authorization server answers it with `invalid_grant`
///   and `Retry-After`): [`SignInError::Throttled`];
/// - a 5xx (503 `temporarily_unavailable` with `Retry-After` when it is overloaded or cannot
///   reach its database) is no verdict on the password: `None`;
/// - otherwise `invalid_grant` or `invalid_request` is a wrong username or password:
///   [`SignInError::BadCredentials`]; any other code (`invalid_client`…) is `None`.
pub(super) fn refused(
    seen: Option<(u16, Option<u64>)>,
    error: &BasicErrorResponseType,
) -> Option<SignInError> {
    match seen {
        Some((429, retry_after)) => Some(SignInError::Throttled { retry_after }),
        Some((status, _)) if status >= 500 => None,
        _ => matches!(
            error,
            BasicErrorResponseType::InvalidGrant | BasicErrorResponseType::InvalidRequest
        )
        .then_some(SignInError::BadCredentials),
    }
}

#[cfg(test)]
mod tests {
    use oauth2::basic::BasicErrorResponse;

    use super::*;

    /// The error code of an answer as the authorization server writes it.
    fn code(body: &str) -> BasicErrorResponseType {
        serde_json::from_str::<BasicErrorResponse>(body)
            .map(|answer| answer.error().clone())
            .unwrap_or_else(|e| BasicErrorResponseType::Extension(e.to_string()))
    }

    #[test]
    fn a_lock_is_told_by_its_status_and_keeps_its_retry_after() {
        let invalid_grant = code(r#"{"error":"invalid_grant"}"#);
        assert!(matches!(
            refused(Some((429, Some(42))), &invalid_grant),
            Some(SignInError::Throttled {
                retry_after: Some(42)
            })
        ));
        assert!(matches!(
            refused(Some((429, None)), &invalid_grant),
            Some(SignInError::Throttled { retry_after: None })
        ));
    }

    #[test]
    fn the_description_never_decides() {
        // A 400 whose description speaks of a lock is still a wrong password; a 429 whose
        // description says nothing of one is still the lock.
        let locked_words = code(
            r#"{"error":"invalid_grant","error_description":"too many attempts: the account is locked, try again later"}"#,
        );
        assert!(matches!(
            refused(Some((400, Some(60))), &locked_words),
            Some(SignInError::BadCredentials)
        ));
        let plain =
            code(r#"{"error":"invalid_grant","error_description":"invalid username or password"}"#);
        assert!(matches!(
            refused(Some((429, Some(60))), &plain),
            Some(SignInError::Throttled { .. })
        ));
    }

    #[test]
    fn a_wrong_password_is_invalid_grant_or_invalid_request() {
        for body in [
            r#"{"error":"invalid_grant"}"#,
            r#"{"error":"invalid_request"}"#,
        ] {
            assert!(
                matches!(
                    refused(Some((400, None)), &code(body)),
                    Some(SignInError::BadCredentials)
                ),
                "{body}"
            );
        }
    }

    #[test]
    fn an_authorization_server_that_cannot_serve_gives_no_verdict() {
        let unavailable = code(r#"{"error":"temporarily_unavailable"}"#);
        assert!(refused(Some((503, Some(1))), &unavailable).is_none());
        // Whatever code a 5xx carries.
        let invalid_grant = code(r#"{"error":"invalid_grant"}"#);
        assert!(refused(Some((503, Some(5))), &invalid_grant).is_none());
        assert!(refused(Some((500, None)), &invalid_grant).is_none());
        // The site's own credentials refused: not the person's fault either.
        let invalid_client = code(r#"{"error":"invalid_client"}"#);
        assert!(refused(Some((401, None)), &invalid_client).is_none());
    }

    #[test]
    fn retry_after_is_read_in_seconds_only() {
        let headers = |value: &str| {
            let mut headers = oauth2::http::HeaderMap::new();
            if let Ok(value) = oauth2::http::HeaderValue::from_str(value) {
                headers.insert(oauth2::http::header::RETRY_AFTER, value);
            }
            headers
        };
        assert_eq!(retry_after_secs(&headers("42")), Some(42));
        assert_eq!(retry_after_secs(&headers(" 7 ")), Some(7));
        assert_eq!(
            retry_after_secs(&headers("Fri, 04 Dec 2026 15:00:00 GMT")),
            None
        );
        assert_eq!(retry_after_secs(&oauth2::http::HeaderMap::new()), None);
    }
}
