//! Which authorization server may be trusted, and from where its keys may come.
//!
//! Whoever can answer for the issuer can sign any token the API will accept. Over plain HTTP
//! anyone on the path between a service and the authorization server could answer, so an
//! `http://` issuer is refused unless it is on this machine (RFC 8414 §2 and RFC 9700 §2.6 ask
//! for TLS; RFC 8252 §8.3 is the usual loopback exception). And the keys are fetched only from
//! the issuer's own origin (RFC 8414 §3.3: the metadata must be the issuer's; a `jwks_uri`
//! elsewhere would hand the trust to whoever runs that other host).

use std::net::IpAddr;

/// Why an issuer cannot be trusted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IssuerError {
    /// Not an absolute URL.
    #[error("the issuer {0:?} is not an absolute URL")]
    NotAUrl(String),
    /// Neither `https://` nor `http://`.
    #[error("the issuer {0:?} must be an https:// URL")]
    Scheme(String),
    /// `http://` on a host that is not loopback.
    #[error(
        "the issuer {0:?} is plain http on a host that is not loopback: anyone on the network path could forge tokens; use https:// (http:// is allowed only for 127.0.0.0/8, [::1] and localhost)"
    )]
    PlainHttp(String),
}

/// Refuses an issuer that is not `https://`, unless it is `http://` on a loopback host.
pub fn check_issuer(issuer: &str) -> Result<(), IssuerError> {
    let url = url::Url::parse(issuer).map_err(|_| IssuerError::NotAUrl(issuer.to_owned()))?;
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(&url) => Ok(()),
        "http" => Err(IssuerError::PlainHttp(issuer.to_owned())),
        _ => Err(IssuerError::Scheme(issuer.to_owned())),
    }
}

fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// Whether `a` and `b` have the same origin (scheme, host and port, RFC 6454 §4); a string
/// that is not an absolute URL has no origin and matches nothing.
pub fn same_origin(a: &str, b: &str) -> bool {
    match (url::Url::parse(a), url::Url::parse(b)) {
        (Ok(a), Ok(b)) => {
            let (a, b) = (a.origin(), b.origin());
            a.is_tuple() && a == b
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_is_refused_unless_loopback() {
        assert_eq!(check_issuer("https://auth.example.ac.uk"), Ok(()));
        assert_eq!(check_issuer("http://127.0.0.1:8082"), Ok(()));
        assert_eq!(check_issuer("http://127.9.9.9"), Ok(()));
        assert_eq!(check_issuer("http://[::1]:8082"), Ok(()));
        assert_eq!(check_issuer("http://localhost:8082"), Ok(()));
        assert!(matches!(
            check_issuer("http://auth.example.ac.uk"),
            Err(IssuerError::PlainHttp(_))
        ));
        assert!(matches!(
            check_issuer("http://10.0.0.5:8082"),
            Err(IssuerError::PlainHttp(_))
        ));
        assert!(matches!(
            check_issuer("http://127.0.0.1.evil.example"),
            Err(IssuerError::PlainHttp(_))
        ));
        assert!(matches!(
            check_issuer("ftp://127.0.0.1"),
            Err(IssuerError::Scheme(_))
        ));
        assert!(matches!(
            check_issuer("not a url"),
            Err(IssuerError::NotAUrl(_))
        ));
    }

    #[test]
    fn origins_compare_scheme_host_and_port() {
        assert!(same_origin(
            "https://auth.example/.well-known/jwks.json",
            "https://auth.example"
        ));
        assert!(same_origin(
            "http://127.0.0.1:8082/x",
            "http://127.0.0.1:8082"
        ));
        assert!(!same_origin(
            "http://127.0.0.1:8083/x",
            "http://127.0.0.1:8082"
        ));
        assert!(!same_origin(
            "http://auth.example/x",
            "https://auth.example"
        ));
        assert!(!same_origin(
            "https://evil.example/x",
            "https://auth.example"
        ));
        assert!(!same_origin("/relative", "https://auth.example"));
    }
}
