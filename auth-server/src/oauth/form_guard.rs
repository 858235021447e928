//! Login-CSRF protection of the sign-in page's form without a server session: a signed
//! double-submit token (OWASP CSRF Prevention Cheat Sheet, "signed double-submit cookie").
//!
//! The page sets a cookie holding a random nonce and puts in a hidden field an expiry and an
//! HMAC-SHA256 of both under a key only this server knows (a server secret shared by every
//! instance). A POST is accepted only when the field's MAC is the one of the cookie's nonce
//! and has not expired: another site can make a browser POST the form, but cannot read or set
//! this server's cookie, nor forge the MAC for the nonce the browser holds. Without this, an
//! attacker could sign a victim in as the attacker (login CSRF, RFC 6749 §10.12).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac as _};
use sha2::Sha256;

/// How long a sign-in page's form may be submitted, in seconds.
pub const FORM_TTL_SECS: i64 = 600;

/// The name of the form key in `server_secrets`.
pub const KEY_NAME: &str = "sign_in_form_key";

/// Issues and checks the form's tokens.
pub struct FormGuard {
    key: Vec<u8>,
}

impl std::fmt::Debug for FormGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FormGuard([REDACTED])")
    }
}

/// Whether `s` looks like one of our nonces (22 base64url characters).
fn is_nonce(s: &str) -> bool {
    s.len() == 22
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
}

impl FormGuard {
    /// From the stored key, base64url-encoded.
    pub fn new(secret_b64: &str) -> anyhow::Result<Self> {
        let key = URL_SAFE_NO_PAD
            .decode(secret_b64)
            .map_err(|e| anyhow::anyhow!("the sign-in form key is not base64url: {e}"))?;
        anyhow::ensure!(key.len() >= 32, "the sign-in form key is too short");
        Ok(Self { key })
    }

    fn mac(&self, nonce: &str, expires: i64) -> anyhow::Result<Hmac<Sha256>> {
        let mut mac =
            <Hmac<Sha256>>::new_from_slice(&self.key).map_err(|_| anyhow::anyhow!("hmac key"))?;
        mac.update(nonce.as_bytes());
        mac.update(b".");
        mac.update(expires.to_string().as_bytes());
        Ok(mac)
    }

    /// The cookie's nonce and the hidden field's token for a page shown at `now`. A nonce the
    /// browser already holds is kept, so that two tabs of sign-in pages both work.
    pub fn issue(&self, held: Option<&str>, now: i64) -> anyhow::Result<(String, String)> {
        let nonce = match held {
            Some(n) if is_nonce(n) => n.to_owned(),
            _ => super::secrets::random_b64(16),
        };
        let expires = now + FORM_TTL_SECS;
        let tag = URL_SAFE_NO_PAD.encode(self.mac(&nonce, expires)?.finalize().into_bytes());
        Ok((nonce, format!("{expires}.{tag}")))
    }

    /// Whether `field` was issued for the cookie's `nonce` and is still valid at `now`; the
    /// MAC is compared in constant time.
    pub fn check(&self, nonce: Option<&str>, field: Option<&str>, now: i64) -> bool {
        let (Some(nonce), Some(field)) = (nonce, field) else {
            return false;
        };
        let Some((expires, tag)) = field.split_once('.') else {
            return false;
        };
        let (Ok(expires), Ok(tag)) = (expires.parse::<i64>(), URL_SAFE_NO_PAD.decode(tag)) else {
            return false;
        };
        if !is_nonce(nonce) || now >= expires || expires > now + FORM_TTL_SECS {
            return false;
        }
        self.mac(nonce, expires)
            .is_ok_and(|mac| mac.verify_slice(&tag).is_ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard() -> FormGuard {
        FormGuard::new(&super::super::secrets::random_token()).unwrap()
    }

    #[test]
    fn a_token_is_good_only_with_its_cookie_and_before_it_expires() {
        let g = guard();
        let (nonce, field) = g.issue(None, 1000).unwrap();
        assert!(g.check(Some(&nonce), Some(&field), 1001));
        assert!(g.check(Some(&nonce), Some(&field), 1000 + FORM_TTL_SECS - 1));
        assert!(!g.check(Some(&nonce), Some(&field), 1000 + FORM_TTL_SECS));
        let (other, _) = g.issue(None, 1000).unwrap();
        assert!(!g.check(Some(&other), Some(&field), 1001));
        assert!(!g.check(None, Some(&field), 1001));
        assert!(!g.check(Some(&nonce), None, 1001));
        assert!(!guard().check(Some(&nonce), Some(&field), 1001));
        let forged = field.replace(&field[..4], "9999");
        assert!(!g.check(Some(&nonce), Some(&forged), 1001));
    }

    #[test]
    fn a_held_nonce_is_kept_and_a_foreign_one_replaced() {
        let g = guard();
        let (nonce, _) = g.issue(None, 0).unwrap();
        assert_eq!(g.issue(Some(&nonce), 5).unwrap().0, nonce);
        assert_ne!(g.issue(Some("<script>"), 5).unwrap().0, "<script>");
    }
}
