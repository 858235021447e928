//! OAuth 2.0 error codes and the errors the grant logic returns (RFC 6749 §5.2, RFC 7009 §2.2.1).

use std::fmt;

/// An OAuth error code; `Display` is the exact string of the RFC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// RFC 6749 §5.2: missing, repeated or malformed parameter.
    InvalidRequest,
    /// RFC 6749 §5.2: client authentication failed.
    InvalidClient,
    /// RFC 6749 §5.2: bad resource-owner credentials or refresh token.
    InvalidGrant,
    /// RFC 6749 §5.2: the client may not use this grant type.
    UnauthorizedClient,
    /// RFC 6749 §5.2: the grant type is not supported by this server.
    UnsupportedGrantType,
    /// RFC 6749 §5.2: the scope is unknown, malformed or not allowed.
    InvalidScope,
}

impl ErrorCode {
    /// The RFC string of the code.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error answered to the client in the RFC 6749 §5.2 format.
///
/// Descriptions are fixed strings written here, never text taken from the request, so they
/// always stay within %x20-21 / %x23-5B / %x5D-7E as §5.2 requires and never reflect input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    /// The error code.
    pub code: ErrorCode,
    /// A human-readable description (static, ASCII, never echoing input).
    pub description: &'static str,
    /// When set, the request was refused by throttling: answered with 429 and `Retry-After`.
    pub retry_after: Option<i64>,
}

impl OAuthError {
    /// An error with a description.
    pub const fn new(code: ErrorCode, description: &'static str) -> Self {
        Self {
            code,
            description,
            retry_after: None,
        }
    }

    /// `invalid_request` with a description.
    pub const fn invalid_request(description: &'static str) -> Self {
        Self::new(ErrorCode::InvalidRequest, description)
    }

    /// `invalid_client`: the same text whatever failed, so clients cannot be enumerated.
    pub const fn invalid_client() -> Self {
        Self::new(ErrorCode::InvalidClient, "client authentication failed")
    }

    /// `invalid_grant` with a description.
    pub const fn invalid_grant(description: &'static str) -> Self {
        Self::new(ErrorCode::InvalidGrant, description)
    }

    /// `invalid_scope` with a description.
    pub const fn invalid_scope(description: &'static str) -> Self {
        Self::new(ErrorCode::InvalidScope, description)
    }

    /// A throttled refusal, answered with 429 and `Retry-After: seconds`.
    pub const fn throttled(code: ErrorCode, description: &'static str, seconds: i64) -> Self {
        Self {
            code,
            description,
            retry_after: Some(seconds),
        }
    }
}

impl fmt::Display for OAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.description)
    }
}

impl std::error::Error for OAuthError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_the_rfc_strings() {
        assert_eq!(ErrorCode::InvalidRequest.to_string(), "invalid_request");
        assert_eq!(ErrorCode::InvalidClient.to_string(), "invalid_client");
        assert_eq!(ErrorCode::InvalidGrant.to_string(), "invalid_grant");
        assert_eq!(
            ErrorCode::UnauthorizedClient.to_string(),
            "unauthorized_client"
        );
        assert_eq!(
            ErrorCode::UnsupportedGrantType.to_string(),
            "unsupported_grant_type"
        );
        assert_eq!(ErrorCode::InvalidScope.to_string(), "invalid_scope");
    }
}
