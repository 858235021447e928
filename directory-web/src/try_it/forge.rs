//! Forged access tokens for `/try-it`, made from the site's own real token by splitting it at
//! its dots (RFC 7515 §7.1: `header.claims.signature`, each base64url) and altering a part. Each
//! claims `scope` as given (the HR job's power); the API must refuse all three.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signer as _, SigningKey};
use serde_json::{Map, Value};

use crate::claims::decode_part;

/// A JWT's three parts: the header and claims decoded, and the parts as they were.
struct Parts<'a> {
    header: Map<String, Value>,
    claims: Map<String, Value>,
    header_part: &'a str,
    signature_part: &'a str,
}

fn split(token: &str) -> Option<Parts<'_>> {
    let mut parts = token.split('.');
    let (Some(header_part), Some(claims_part), Some(signature_part), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    Some(Parts {
        header: decode_part(header_part)?,
        claims: decode_part(claims_part)?,
        header_part,
        signature_part,
    })
}

fn encode(object: &Map<String, Value>) -> String {
    URL_SAFE_NO_PAD.encode(Value::Object(object.clone()).to_string())
}

/// The claims of `parts` with `scope` written in, encoded.
fn claims_with(parts: &Parts<'_>, scope: &str) -> String {
    let mut claims = parts.claims.clone();
    claims.insert("scope".to_owned(), Value::String(scope.to_owned()));
    encode(&claims)
}

/// `token` with `scope` written in, its header saying `"alg":"none"` and no signature at all
/// (RFC 7519 §6: an "unsecured JWT"). `None` when `token` is not a JWT.
pub fn alg_none(token: &str, scope: &str) -> Option<String> {
    let parts = split(token)?;
    let mut header = parts.header.clone();
    header.insert("alg".to_owned(), Value::String("none".to_owned()));
    Some(format!(
        "{}.{}.",
        encode(&header),
        claims_with(&parts, scope)
    ))
}

/// `token` with `scope` written in, its real header and real signature kept.
pub fn changed_claim(token: &str, scope: &str) -> Option<String> {
    let parts = split(token)?;
    Some(format!(
        "{}.{}.{}",
        parts.header_part,
        claims_with(&parts, scope),
        parts.signature_part
    ))
}

/// `token` with `scope` written in, its real header kept (`alg`, `typ` and the real key's
/// `kid`), signed with `key`.
fn signed_with(token: &str, scope: &str, key: &SigningKey) -> Option<String> {
    let parts = split(token)?;
    let signing_input = format!("{}.{}", parts.header_part, claims_with(&parts, scope));
    let signature = key.sign(signing_input.as_bytes());
    Some(format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(signature.to_bytes())
    ))
}

/// `token` with `scope` written in, signed with a fresh Ed25519 key made here and now (and
/// thrown away), under the real key's `kid`.
pub fn self_signed(token: &str, scope: &str) -> Option<String> {
    signed_with(token, scope, &SigningKey::generate(&mut rand::rngs::OsRng))
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::{Signature, Verifier as _};

    use super::*;

    const SCOPE: &str = "directory:read directory:admin";

    fn real_token() -> String {
        let header = r#"{"typ":"at+jwt","alg":"EdDSA","kid":"key-1"}"#;
        let claims = r#"{"sub":"directory-web","scope":"directory:read","token_kind":"client"}"#;
        format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(claims),
            URL_SAFE_NO_PAD.encode([7u8; 64])
        )
    }

    fn part(token: &str, n: usize) -> Map<String, Value> {
        decode_part(token.split('.').nth(n).unwrap_or_default()).unwrap_or_default()
    }

    #[test]
    fn alg_none_has_no_signature_and_the_forged_scope() {
        let forged = alg_none(&real_token(), SCOPE).unwrap();
        assert!(forged.ends_with('.'), "no signature: {forged}");
        assert_eq!(part(&forged, 0)["alg"], "none");
        assert_eq!(part(&forged, 0)["kid"], "key-1");
        assert_eq!(part(&forged, 1)["scope"], SCOPE);
        assert_eq!(part(&forged, 1)["sub"], "directory-web");
    }

    #[test]
    fn a_changed_claim_keeps_the_real_header_and_signature() {
        let real = real_token();
        let forged = changed_claim(&real, SCOPE).unwrap();
        let (r, f): (Vec<&str>, Vec<&str>) =
            (real.split('.').collect(), forged.split('.').collect());
        assert_eq!((f[0], f[2]), (r[0], r[2]));
        assert_ne!(f[1], r[1]);
        assert_eq!(part(&forged, 1)["scope"], SCOPE);
        assert_eq!(part(&forged, 1)["token_kind"], "client");
    }

    #[test]
    fn a_self_signed_token_verifies_only_with_the_key_that_made_it() {
        let key = SigningKey::from_bytes(&[42u8; 32]);
        let forged = signed_with(&real_token(), SCOPE, &key).unwrap();
        let (input, signature) = forged.rsplit_once('.').unwrap();
        let signature = Signature::from_slice(&URL_SAFE_NO_PAD.decode(signature).unwrap()).unwrap();
        assert!(
            key.verifying_key()
                .verify(input.as_bytes(), &signature)
                .is_ok()
        );
        let other = SigningKey::from_bytes(&[43u8; 32]);
        assert!(
            other
                .verifying_key()
                .verify(input.as_bytes(), &signature)
                .is_err()
        );
        assert_eq!(part(&forged, 0)["kid"], "key-1");
        assert_eq!(part(&forged, 0)["alg"], "EdDSA");
        assert_eq!(part(&forged, 1)["scope"], SCOPE);
        // A fresh key each time.
        let (a, b) = (
            self_signed(&real_token(), SCOPE).unwrap(),
            self_signed(&real_token(), SCOPE).unwrap(),
        );
        assert_ne!(a.rsplit_once('.').unwrap().1, b.rsplit_once('.').unwrap().1);
    }

    #[test]
    fn what_is_not_a_jwt_cannot_be_forged_from() {
        for not_a_jwt in ["", "opaque", "a.b", "a.b.c.d", "e30.%%.c"] {
            assert_eq!(alg_none(not_a_jwt, SCOPE), None, "{not_a_jwt}");
            assert_eq!(changed_claim(not_a_jwt, SCOPE), None, "{not_a_jwt}");
            assert_eq!(self_signed(not_a_jwt, SCOPE), None, "{not_a_jwt}");
        }
    }
}
