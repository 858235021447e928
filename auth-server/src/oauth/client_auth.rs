//! What a client presented to authenticate itself (RFC 6749 §2.3), parsed and not yet checked.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use secrecy::SecretString;

use super::error::OAuthError;
use super::form::{FormParams, decode};

/// A client identifier: 1 to 128 characters of VSCHAR (%x20-7E, RFC 6749 Appendix A.1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientId(String);

/// A client id that cannot exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a client id is 1 to 128 printable ASCII characters (%x20-7E)")]
pub struct InvalidClientId;

impl ClientId {
    /// Parses a client id; control characters and non-ASCII are refused before any lookup
    /// (RFC 6749 §10.14).
    pub fn parse(s: &str) -> Result<Self, InvalidClientId> {
        if (1..=128).contains(&s.len()) && s.bytes().all(|b| (0x20..=0x7E).contains(&b)) {
            Ok(Self(s.to_owned()))
        } else {
            Err(InvalidClientId)
        }
    }

    /// The id as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How the client sent its credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// `client_secret_basic`: HTTP Basic, id and secret form-encoded first (Appendix B).
    Basic,
    /// `client_secret_post`: `client_id` and `client_secret` in the form body.
    Post,
}

/// The credentials a client presented. `secret` is `None` when only a `client_id` was sent,
/// which never authenticates: every client here is confidential (RFC 6749 §2.3, §4.4).
#[derive(Debug)]
pub struct PresentedClient {
    /// The method used.
    pub method: AuthMethod,
    /// The claimed client id.
    pub client_id: ClientId,
    /// The presented secret, if any.
    pub secret: Option<SecretString>,
}

/// Reads the client's credentials from the `Authorization` header and the form body.
///
/// - RFC 6749 §2.3: "The client MUST NOT use more than one authentication method in each
///   request": Basic together with `client_secret` in the body is `invalid_request`.
/// - RFC 6749 §2.3.1 and Appendix B: the Basic user-id and password are form-urlencoded
///   before base64, so they are form-decoded after it.
/// - A malformed or non-Basic `Authorization` header is a failed authentication.
pub fn presented_client(
    authorization: Option<&[u8]>,
    params: &FormParams,
) -> Result<PresentedClient, OAuthError> {
    match authorization {
        Some(header) => {
            let (id, secret) = parse_basic(header).ok_or(OAuthError::invalid_client())?;
            if params.contains("client_secret") {
                return Err(OAuthError::invalid_request(
                    "more than one client authentication method was used",
                ));
            }
            let client_id = ClientId::parse(&id)
                .map_err(|_| OAuthError::invalid_request("the client_id is malformed"))?;
            if params
                .get("client_id")
                .is_some_and(|body_id| body_id != client_id.as_str())
            {
                return Err(OAuthError::invalid_request(
                    "the client_id in the body differs from the authenticated client",
                ));
            }
            Ok(PresentedClient {
                method: AuthMethod::Basic,
                client_id,
                secret: Some(SecretString::from(secret)),
            })
        }
        None => {
            let raw_id = params
                .get("client_id")
                .ok_or(OAuthError::invalid_client())?;
            let client_id = ClientId::parse(raw_id)
                .map_err(|_| OAuthError::invalid_request("the client_id is malformed"))?;
            Ok(PresentedClient {
                method: AuthMethod::Post,
                client_id,
                secret: params.get("client_secret").map(SecretString::from),
            })
        }
    }
}

/// `Basic base64(urlencode(id) ":" urlencode(secret))`, the scheme name case-insensitive.
fn parse_basic(header: &[u8]) -> Option<(String, String)> {
    let header = std::str::from_utf8(header).ok()?;
    let (scheme, rest) = header.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = STANDARD.decode(rest.trim()).ok()?;
    let colon = decoded.iter().position(|b| *b == b':')?;
    let id = decode(&decoded[..colon]).ok()?;
    let secret = decode(&decoded[colon + 1..]).ok()?;
    (!id.is_empty() && !secret.is_empty()).then_some((id, secret))
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    fn basic(id: &str, secret: &str) -> Vec<u8> {
        format!("Basic {}", STANDARD.encode(format!("{id}:{secret}"))).into_bytes()
    }

    #[test]
    fn basic_credentials_are_form_decoded() {
        let header = basic("a%3Ab%252B+c%2Bd", "s%3Ae");
        let p = presented_client(Some(&header), &FormParams::default()).unwrap();
        assert_eq!(p.client_id.as_str(), "a:b%2B c+d");
        assert_eq!(p.secret.unwrap().expose_secret(), "s:e");
        assert_eq!(p.method, AuthMethod::Basic);
    }

    #[test]
    fn two_methods_are_invalid_request() {
        let params = FormParams::parse(b"client_secret=x").unwrap();
        let err = presented_client(Some(&basic("a", "b")), &params).unwrap_err();
        assert_eq!(err.code, super::super::error::ErrorCode::InvalidRequest);
    }

    #[test]
    fn control_characters_in_client_id_are_invalid_request() {
        let params = FormParams::parse(b"client_id=a%0Db&client_secret=x").unwrap();
        let err = presented_client(None, &params).unwrap_err();
        assert_eq!(err.code, super::super::error::ErrorCode::InvalidRequest);
    }
}
