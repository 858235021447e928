//! The browser's device cookie (OWASP "device cookies"; see docs/operations.md, Device tokens).
//!
//! After a successful sign-in the authorization server hands the site a `device_token` for
//! that person and this site. The site keeps it in a long-lived cookie of the browser, encrypted
//! and authenticated with the site's session key (AES-GCM, the cookie's name bound in), next to
//! the username it was issued for; a browser may hold the tokens of a few people (a shared
//! office computer). When the browser signs in again as one of them, the site sends that token
//! along: the authorization server then counts the attempt against this browser's own budget
//! instead of the username's lock that strangers may have caused, and the site does not count
//! it against the visitor's network address either.
//!
//! Sign-out leaves this cookie alone: it ends a sign-in, not the device's standing.

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, CookieJar, Key, SameSite, time};
use serde::{Deserialize, Serialize};

/// People remembered per browser at most (the newest kept).
pub const MAX_PEOPLE: usize = 4;
/// How long the cookie lives: the authorization server honours a device token for 180 days.
pub const MAX_AGE_DAYS: i64 = 180;
/// The longest device token kept; the authorization server's are about 250 bytes.
const MAX_TOKEN_BYTES: usize = 1024;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
struct Entry {
    /// The username the token was issued for (canonical, as in the access token's `sub`).
    u: String,
    /// The device token.
    t: String,
}

/// The people this browser has signed in as, with their device tokens, newest first.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Remembered(Vec<Entry>);

impl Remembered {
    /// The device token for `username` (as typed: case and surrounding space do not matter,
    /// as at the authorization server), if this browser has signed in as them.
    pub fn token_for(&self, username: &str) -> Option<&str> {
        let username = username.trim();
        self.0
            .iter()
            .find(|e| e.u.eq_ignore_ascii_case(username))
            .map(|e| e.t.as_str())
    }

    /// Remembers `token` for `username`, first; keeps at most [`MAX_PEOPLE`].
    pub fn remember(&mut self, username: &str, token: &str) {
        self.0.retain(|e| !e.u.eq_ignore_ascii_case(username));
        self.0.insert(
            0,
            Entry {
                u: username.to_owned(),
                t: token.to_owned(),
            },
        );
        self.0.truncate(MAX_PEOPLE);
    }
}

/// Reads and writes the device cookie.
#[derive(Clone)]
pub struct DeviceCookies {
    key: Key,
    secure: bool,
}

impl std::fmt::Debug for DeviceCookies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceCookies")
            .field("secure", &self.secure)
            .finish_non_exhaustive()
    }
}

impl DeviceCookies {
    /// With the site's session key; `secure` over HTTPS (`Secure`, `__Host-` name).
    pub fn new(key: Key, secure: bool) -> Self {
        Self { key, secure }
    }

    /// The cookie's name. Distinct from every cookie of the authorization server, which may
    /// share the host (cookies ignore ports).
    pub fn name(&self) -> &'static str {
        if self.secure {
            "__Host-sd-device"
        } else {
            "sd-device"
        }
    }

    /// What the browser's cookie holds; nothing when it is absent, altered, or unreadable.
    pub fn read(&self, req: &HttpRequest) -> Remembered {
        let Some(sent) = req.cookie(self.name()) else {
            return Remembered::default();
        };
        let mut jar = CookieJar::new();
        jar.add_original(Cookie::new(self.name(), sent.value().to_owned()));
        jar.private(&self.key)
            .get(self.name())
            .and_then(|c| serde_json::from_str::<Remembered>(c.value()).ok())
            .map(|mut r| {
                r.0.retain(|e| e.t.len() <= MAX_TOKEN_BYTES);
                r.0.truncate(MAX_PEOPLE);
                r
            })
            .unwrap_or_default()
    }

    /// The cookie that stores `remembered`: encrypted, HttpOnly, SameSite=Lax, path `/`,
    /// for [`MAX_AGE_DAYS`].
    pub fn cookie(&self, remembered: &Remembered) -> Result<Cookie<'static>, serde_json::Error> {
        let value = serde_json::to_string(remembered)?;
        let mut jar = CookieJar::new();
        jar.private_mut(&self.key)
            .add(Cookie::new(self.name(), value));
        let sealed = jar
            .get(self.name())
            .map(|c| c.value().to_owned())
            .unwrap_or_default();
        Ok(Cookie::build(self.name(), sealed)
            .path("/")
            .http_only(true)
            .secure(self.secure)
            .same_site(SameSite::Lax)
            .max_age(time::Duration::days(MAX_AGE_DAYS))
            .finish())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_browser_remembers_a_few_people_newest_first() {
        let mut r = Remembered::default();
        for i in 0..6 {
            r.remember(&format!("user{i}"), &format!("token{i}"));
        }
        assert_eq!(r.0.len(), MAX_PEOPLE);
        assert_eq!(r.token_for("user5"), Some("token5"));
        assert_eq!(r.token_for(" USER4 "), Some("token4"));
        assert_eq!(r.token_for("user0"), None);
        r.remember("user4", "renewed");
        assert_eq!(r.token_for("user4"), Some("renewed"));
        assert_eq!(r.0.len(), MAX_PEOPLE);
    }

    #[test]
    fn the_cookie_is_sealed_and_read_back_only_with_the_key() {
        let devices = DeviceCookies::new(Key::generate(), false);
        let mut r = Remembered::default();
        r.remember("ajohnson", "device-token");
        let cookie = devices.cookie(&r).unwrap();
        assert!(!cookie.value().contains("ajohnson"));
        assert_eq!(cookie.http_only(), Some(true));
        let req = actix_web::test::TestRequest::default()
            .cookie(Cookie::new("sd-device", cookie.value().to_owned()))
            .to_http_request();
        assert_eq!(devices.read(&req), r);
        let other = DeviceCookies::new(Key::generate(), false);
        assert_eq!(other.read(&req), Remembered::default());
    }
}
