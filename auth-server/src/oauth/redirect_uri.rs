//! Redirect URIs (RFC 6749 §3.1.2): what may be registered for a client, and how a request's
//! is compared with the registered ones.
//!
//! Registration: an absolute `https` URI without a fragment (§3.1.2), or `http` on a loopback
//! host only (RFC 8252 §7.3, RFC 9700 §2.6: cleartext only where nothing crosses a network).
//! A request's `redirect_uri` must equal one registered **character for character** (RFC 9700
//! §4.1.3: exact string matching); nothing is normalised, so `…/callback/../x`, an extra query
//! or another port never match.

use std::fmt;

/// The longest redirect URI accepted.
const MAX_REDIRECT_URI_BYTES: usize = 2000;

/// A redirect URI fit for registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectUri(String);

/// Why a redirect URI cannot be registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RedirectUriError {
    /// Not an absolute URI, too long, or not in its normal form.
    #[error("the redirect URI is not an absolute URI in normal form")]
    Malformed,
    /// A fragment is not allowed (RFC 6749 §3.1.2).
    #[error("a redirect URI must not have a fragment")]
    Fragment,
    /// Cleartext `http` to a host that is not loopback, or another scheme.
    #[error("a redirect URI must use https (http only on a loopback host)")]
    Insecure,
    /// User information (`user:pass@`) in the URI.
    #[error("a redirect URI must not carry user information")]
    UserInfo,
}

impl RedirectUri {
    /// A URI to register, checked as the module says. It must be written the way the `url`
    /// crate serialises it, so that what is registered is what clients will send.
    pub fn parse(s: &str) -> Result<Self, RedirectUriError> {
        if s.len() > MAX_REDIRECT_URI_BYTES {
            return Err(RedirectUriError::Malformed);
        }
        let url = url::Url::parse(s).map_err(|_| RedirectUriError::Malformed)?;
        if url.fragment().is_some() || s.contains('#') {
            return Err(RedirectUriError::Fragment);
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(RedirectUriError::UserInfo);
        }
        let loopback = match url.host() {
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            Some(url::Host::Domain(d)) => d == "localhost",
            None => return Err(RedirectUriError::Malformed),
        };
        match url.scheme() {
            "https" => {}
            "http" if loopback => {}
            _ => return Err(RedirectUriError::Insecure),
        }
        if url.as_str() != s {
            return Err(RedirectUriError::Malformed);
        }
        Ok(Self(s.to_owned()))
    }

    /// A URI as stored (checked when it was registered).
    pub fn stored(s: String) -> Self {
        Self(s)
    }

    /// The URI text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `requested` is exactly this URI, character for character (RFC 9700 §4.1.3).
    pub fn matches(&self, requested: &str) -> bool {
        self.0 == requested
    }
}

impl fmt::Display for RedirectUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_anywhere_and_http_only_on_loopback() {
        for ok in [
            "https://app.example.edu/cb",
            "http://127.0.0.1:8080/sign-in/callback",
            "http://[::1]:9000/cb",
            "http://localhost:3000/cb?x=1",
        ] {
            assert!(RedirectUri::parse(ok).is_ok(), "{ok}");
        }
        assert_eq!(
            RedirectUri::parse("http://app.example.edu/cb"),
            Err(RedirectUriError::Insecure)
        );
        assert_eq!(
            RedirectUri::parse("javascript://127.0.0.1/x"),
            Err(RedirectUriError::Insecure)
        );
        assert_eq!(
            RedirectUri::parse("https://app.example.edu/cb#x"),
            Err(RedirectUriError::Fragment)
        );
        assert_eq!(
            RedirectUri::parse("https://u:p@app.example.edu/cb"),
            Err(RedirectUriError::UserInfo)
        );
        assert_eq!(
            RedirectUri::parse("/sign-in/callback"),
            Err(RedirectUriError::Malformed)
        );
        // Not in normal form: what would be registered is not what a client sends.
        assert_eq!(
            RedirectUri::parse("https://APP.example.edu/a/../cb"),
            Err(RedirectUriError::Malformed)
        );
    }

    #[test]
    fn matching_is_character_for_character() {
        let uri = RedirectUri::parse("http://127.0.0.1:8080/sign-in/callback").unwrap();
        assert!(uri.matches("http://127.0.0.1:8080/sign-in/callback"));
        for other in [
            "http://127.0.0.1:8080/sign-in/callback/../x",
            "http://127.0.0.1:8080/sign-in/callback?x=1",
            "http://127.0.0.1:8080/sign-in/callback/",
            "http://localhost:8080/sign-in/callback",
            "http://127.0.0.1:8081/sign-in/callback",
            "HTTP://127.0.0.1:8080/sign-in/callback",
        ] {
            assert!(!uri.matches(other), "{other}");
        }
    }
}
