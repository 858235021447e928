//! The claims of an access token, decoded for display: the teaching page shows them with what
//! each one means, and a new sign-in reads its canonical username from the token's `sub`.
//!
//! Nothing here verifies a signature: the tokens came straight from the issuer over TLS and are
//! only shown or used as a label. The API verifies every token it is sent.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::{ExposeSecret as _, SecretString};

use crate::views::Claim;

/// The JSON object in the payload part of a JWT (RFC 7519 §3), if it is one.
fn payload(jwt: &str) -> Option<serde_json::Map<String, serde_json::Value>> {
    let payload = jwt.split('.').nth(1)?;
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()
}

/// The `sub` of a JWT, read without verification (for display and session labels only).
pub fn token_subject(jwt: &str) -> Option<String> {
    payload(jwt)?.get("sub")?.as_str().map(str::to_owned)
}

/// What each claim of an access token means, for the teaching page ("" for a claim it does
/// not explain).
pub fn meaning(claim: &str) -> &'static str {
    match claim {
        "iss" => "Issuer: the authorization server that signed the token.",
        "sub" => "Subject: whom the token speaks for. For the site's own token, the site itself.",
        "aud" => "Audience: the API the token is meant for, and nothing else.",
        "exp" => "Expiry (Unix time): after this the API refuses the token.",
        "iat" => "Issued at (Unix time).",
        "nbf" => "Not before (Unix time).",
        "jti" => "A unique id for this very token.",
        "client_id" => "The application the token was issued to.",
        "scope" => "What the token allows: here, reading the public directory only.",
        "token_kind" => {
            "Set by the authorization server: a client's token or a person's. The API checks it before anything a person may do."
        }
        "sid" => "The sign-in this token belongs to (people's tokens only).",
        _ => "",
    }
}

/// The claims of a JWT, decoded for display (the token came straight from the issuer; it is
/// not re-verified here, and is never shown itself). `None` when it is not a JWT.
pub fn decoded_claims(token: &SecretString) -> Option<Vec<Claim>> {
    Some(
        payload(token.expose_secret())?
            .into_iter()
            .map(|(name, value)| Claim {
                meaning: meaning(&name).to_owned(),
                value: value.to_string(),
                name,
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(claims: &serde_json::Value) -> String {
        format!(
            "{}.{}.signature",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"EdDSA","typ":"at+jwt"}"#),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        )
    }

    #[test]
    fn the_subject_is_read_from_the_payload() {
        let token = jwt(&serde_json::json!({"sub": "ajohnson", "scope": "directory:read"}));
        assert_eq!(token_subject(&token).as_deref(), Some("ajohnson"));
        assert_eq!(token_subject(&jwt(&serde_json::json!({"sub": 42}))), None);
        assert_eq!(token_subject(&jwt(&serde_json::json!({}))), None);
    }

    #[test]
    fn what_is_not_a_jwt_has_no_claims() {
        for not_a_jwt in ["", "opaque", "a.%%%.c", "a.bm90IGpzb24.c", "a.WzEsMl0.c"] {
            assert_eq!(token_subject(not_a_jwt), None, "{not_a_jwt}");
            assert!(
                decoded_claims(&SecretString::from(not_a_jwt)).is_none(),
                "{not_a_jwt}"
            );
        }
    }

    #[test]
    fn each_claim_is_shown_as_json_with_its_meaning() {
        let token = jwt(&serde_json::json!({
            "iss": "http://auth.example.edu", "exp": 1_800_000_000, "custom": true,
        }));
        let claims = decoded_claims(&SecretString::from(token)).unwrap_or_default();
        let mut shown: Vec<(&str, &str, &str)> = claims
            .iter()
            .map(|c| (c.name.as_str(), c.value.as_str(), c.meaning.as_str()))
            .collect();
        shown.sort_unstable();
        assert_eq!(
            shown,
            [
                ("custom", "true", ""),
                ("exp", "1800000000", meaning("exp")),
                (
                    "iss",
                    "\"http://auth.example.edu\"",
                    "Issuer: the authorization server that signed the token."
                ),
            ]
        );
    }

    #[test]
    fn every_claim_the_authorization_server_issues_is_explained() {
        for claim in [
            "iss",
            "sub",
            "aud",
            "exp",
            "iat",
            "nbf",
            "jti",
            "client_id",
            "scope",
            "token_kind",
            "sid",
        ] {
            assert!(!meaning(claim).is_empty(), "{claim}");
        }
        assert_eq!(meaning("device_token"), "");
    }
}
