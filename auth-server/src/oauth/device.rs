//! Device tokens: OWASP's "device cookies" (Authentication Cheat Sheet), so that throttling
//! can never become a way to lock someone else out.
//!
//! Five wrong passwords lock a username for strangers; usernames are public, so anyone could
//! keep anyone locked out. When a member of staff signs in successfully, the token response
//! carries a `device_token` (an extension parameter, RFC 6749 §5.1 allows them): an HS256 JWT
//! signed with a key only this server knows, naming a random device id, the user and the client
//! it was issued through. The website keeps it in a long-lived cookie of that browser and sends
//! it back as the `device_token` parameter of later password-grant requests for the same user.
//!
//! Only a client that authenticates as the one it was issued to can present it (the client is
//! authenticated before the grant runs), and only for the user it names, so nobody but the
//! website can assert "this attempt comes from a browser where this person signed in before",
//! and the website asserts it only for a browser holding the cookie. A valid device token moves
//! the attempt off the username's lock and onto the device's own small budget of failures
//! ([`crate::oauth::throttle::SubjectKind::Device`]); an invalid, expired or foreign one is
//! ignored, and the attempt is a stranger's like any other.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac as _};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// How long a device token is honoured after its last successful sign-in, in seconds: 180
/// days (each successful sign-in from the browser issues a fresh one).
pub const DEVICE_TOKEN_TTL_SECS: i64 = 180 * 24 * 3600;

/// The longest device token looked at; ours are about 250 bytes.
const MAX_DEVICE_TOKEN_BYTES: usize = 1024;

/// The JWT `typ` of a device token, so it can never pass for an access token (RFC 8725 §3.11).
const TYP: &str = "device+jwt";

/// The name of the device-token key in `server_secrets`.
pub const KEY_NAME: &str = "device_token_key";

#[derive(Debug, Serialize, Deserialize)]
struct DeviceClaims {
    /// The device id: random, 128 bits.
    did: String,
    /// The user it was issued for.
    sub: String,
    /// The client it was issued through.
    client_id: String,
    iat: i64,
    exp: i64,
}

/// Issues and checks device tokens; also keys the hashes that stand for unknown usernames in
/// logs. Built from the `device_token_key` server secret, shared by every instance.
pub struct DeviceTokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    log_key: Vec<u8>,
}

impl std::fmt::Debug for DeviceTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DeviceTokens([REDACTED])")
    }
}

impl DeviceTokens {
    /// From the 32-byte secret, base64url-encoded as stored.
    pub fn new(secret_b64: &str) -> anyhow::Result<Self> {
        let secret = URL_SAFE_NO_PAD
            .decode(secret_b64)
            .map_err(|e| anyhow::anyhow!("the device-token key is not base64url: {e}"))?;
        anyhow::ensure!(secret.len() >= 32, "the device-token key is too short");
        // A second key for log hashes, derived so that one secret serves both purposes apart.
        let mut mac =
            <Hmac<Sha256>>::new_from_slice(&secret).map_err(|_| anyhow::anyhow!("hmac key"))?;
        mac.update(b"staff-directory log pseudonyms");
        Ok(Self {
            encoding: EncodingKey::from_secret(&secret),
            decoding: DecodingKey::from_secret(&secret),
            log_key: mac.finalize().into_bytes().to_vec(),
        })
    }

    /// A device token for `username` through `client_id`: for `device_id` when the browser
    /// already had one (its standing carries on), else for a new random device.
    pub fn issue(
        &self,
        device_id: Option<&str>,
        username: &str,
        client_id: &str,
        now: i64,
    ) -> anyhow::Result<String> {
        let claims = DeviceClaims {
            did: device_id.map_or_else(|| super::secrets::random_b64(16), str::to_owned),
            sub: username.to_owned(),
            client_id: client_id.to_owned(),
            iat: now,
            exp: now + DEVICE_TOKEN_TTL_SECS,
        };
        let mut header = Header::new(Algorithm::HS256);
        header.typ = Some(TYP.to_owned());
        jsonwebtoken::encode(&header, &claims, &self.encoding)
            .map_err(|e| anyhow::anyhow!("device token: {e}"))
    }

    /// The device id of `token` when it is genuine, unexpired, and was issued for exactly
    /// `username` through exactly `client_id`; `None` otherwise, whatever the reason.
    pub fn verify(&self, token: &str, username: &str, client_id: &str, now: i64) -> Option<String> {
        if token.len() > MAX_DEVICE_TOKEN_BYTES {
            return None;
        }
        if jsonwebtoken::decode_header(token).ok()?.typ.as_deref() != Some(TYP) {
            return None;
        }
        let mut validation = Validation::new(Algorithm::HS256);
        // Expiry is checked below against the injected clock, not the system's.
        validation.validate_exp = false;
        validation.required_spec_claims.clear();
        let claims = jsonwebtoken::decode::<DeviceClaims>(token, &self.decoding, &validation)
            .ok()?
            .claims;
        (claims.sub == username && claims.client_id == client_id && now < claims.exp)
            .then_some(claims.did)
    }

    /// A keyed hash standing for `text` in logs (16 hex digits): lines about one typed
    /// username can be correlated, but what was typed (perhaps a password typed into the
    /// username box) is not written down.
    pub fn pseudonym(&self, text: &str) -> String {
        let Ok(mut mac) = <Hmac<Sha256>>::new_from_slice(&self.log_key) else {
            return String::from("unavailable");
        };
        mac.update(text.as_bytes());
        mac.finalize().into_bytes()[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// A new device-token key: 256 random bits, base64url.
pub fn new_key() -> String {
    super::secrets::random_token()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens() -> DeviceTokens {
        DeviceTokens::new(&new_key()).unwrap()
    }

    #[test]
    fn a_device_token_is_honoured_only_for_its_user_client_and_lifetime() {
        let t = tokens();
        let token = t.issue(None, "ajohnson", "directory-web", 1000).unwrap();
        let did = t.verify(&token, "ajohnson", "directory-web", 1001).unwrap();
        assert_eq!(did.len(), 22);
        assert_eq!(t.verify(&token, "bokafor", "directory-web", 1001), None);
        assert_eq!(t.verify(&token, "ajohnson", "hr-sync", 1001), None);
        assert_eq!(
            t.verify(
                &token,
                "ajohnson",
                "directory-web",
                1000 + DEVICE_TOKEN_TTL_SECS
            ),
            None
        );
        // Re-issued for the same device, the standing carries on.
        let again = t
            .issue(Some(&did), "ajohnson", "directory-web", 2000)
            .unwrap();
        assert_eq!(
            t.verify(&again, "ajohnson", "directory-web", 2001),
            Some(did)
        );
    }

    #[test]
    fn another_servers_or_an_altered_token_is_ignored() {
        let token = tokens()
            .issue(None, "ajohnson", "directory-web", 0)
            .unwrap();
        assert_eq!(
            tokens().verify(&token, "ajohnson", "directory-web", 1),
            None
        );
        let t = tokens();
        let token = t.issue(None, "ajohnson", "directory-web", 0).unwrap();
        let mut altered = token.clone();
        altered.pop();
        assert_eq!(t.verify(&altered, "ajohnson", "directory-web", 1), None);
        assert_eq!(t.verify("x.y.z", "ajohnson", "directory-web", 1), None);
        assert_eq!(
            t.verify(&"a".repeat(5000), "ajohnson", "directory-web", 1),
            None
        );
    }

    #[test]
    fn pseudonyms_are_stable_and_keyed() {
        let t = tokens();
        assert_eq!(t.pseudonym("hunter2"), t.pseudonym("hunter2"));
        assert_eq!(t.pseudonym("hunter2").len(), 16);
        assert_ne!(t.pseudonym("hunter2"), tokens().pseudonym("hunter2"));
    }
}
