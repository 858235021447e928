//! The lab's whole token check, naive on purpose: it is what the directory API's
//! `directory_api::auth::verify` would be if it stopped at the signature.
//!
//! | what | the lab | the real API |
//! |---|---|---|
//! | the signature, with a key from the issuer's JWKS chosen by `kid` | checked | checked |
//! | the algorithm | whatever the header names; `none` means no signature at all | `EdDSA` only, fixed in code (RFC 8725 §3.1) |
//! | `typ`, `iss`, `aud`, `exp`, `nbf` | ignored | checked (RFC 9068 §4) |
//! | `scope`, `token_kind`, the record's owner, HR-owned fields | ignored | checked |
//!
//! The mistakes are chosen so that each attack of the guide has a clear outcome: the misuse of
//! a genuine token (the site's token editing a profile, a person editing someone else's record
//! or an HR-owned field, a person using the admin API) and a token with `alg: none` get
//! through; a genuine token with a changed claim, or one signed with a key of the attacker's
//! making, do not, because the signature check does its one job.

use std::future::Future;
use std::pin::Pin;
use std::str::FromStr as _;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use directory_api::auth::keys::KeyError;
use directory_api::auth::verify::MAX_TOKEN_BYTES;
use directory_api::error::ApiError;
use jsonwebtoken::{Algorithm, Validation};
use serde::Deserialize;

use super::LabState;

/// The header members the lab reads.
#[derive(Debug, Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
}

/// How the lab checks a token, decided from its header alone (the first mistake: the token
/// chooses).
#[derive(Debug, PartialEq, Eq)]
pub enum Checking {
    /// `alg: none` (in any case): the token says it is unsigned, and the lab believes it.
    Unsigned,
    /// The signature, with the algorithm the header names and the JWKS key it names.
    Signature {
        /// The algorithm, as named in the header.
        alg: Algorithm,
        /// The key's id.
        kid: String,
    },
}

/// How `token` is to be checked: its shape (three parts; a JSON header; a JSON object as
/// payload) and its header's `alg` and `kid`.
pub fn checking(token: &str) -> Result<Checking, ApiError> {
    let invalid = ApiError::InvalidToken;
    if token.len() > MAX_TOKEN_BYTES {
        return Err(invalid("the token is too long"));
    }
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid("the token is not a JWT"));
    };
    let header: Header = URL_SAFE_NO_PAD
        .decode(header)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or(invalid("the token's header is malformed"))?;
    URL_SAFE_NO_PAD
        .decode(payload)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<serde_json::Map<_, _>>(&bytes).ok())
        .ok_or(invalid("the token is malformed"))?;
    // The classic mistake (CVE-2015-9235 and its kin): the token says how to check it.
    if header.alg.eq_ignore_ascii_case("none") {
        return Ok(Checking::Unsigned);
    }
    let alg = Algorithm::from_str(&header.alg)
        .map_err(|_| invalid("the token's algorithm is not known"))?;
    let kid = header
        .kid
        .filter(|k| !k.is_empty() && k.len() <= 128)
        .ok_or(invalid("the token names no usable signing key"))?;
    Ok(Checking::Signature { alg, kid })
}

/// Checks `token` the lab's way: the signature only (see the module's table).
pub async fn check(token: &str, state: &LabState) -> Result<(), ApiError> {
    let invalid = ApiError::InvalidToken;
    let (alg, kid) = match checking(token)? {
        Checking::Unsigned => return Ok(()),
        Checking::Signature { alg, kid } => (alg, kid),
    };
    let key = match state.keys.key(&kid).await {
        Ok(key) => key,
        Err(KeyError::Unknown) => return Err(invalid("the token is signed by an unknown key")),
        Err(KeyError::Unavailable(e)) => return Err(ApiError::Unavailable(e)),
    };
    // No claim is required or checked: not `exp`, not `iss`, not `aud`.
    let mut validation = Validation::new(alg);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    jsonwebtoken::decode::<serde_json::Value>(token, &key, &validation).map_err(|e| {
        use jsonwebtoken::errors::ErrorKind;
        invalid(match e.kind() {
            ErrorKind::InvalidSignature => "the token's signature is invalid",
            // A key works with its own family of algorithms only: an Ed25519 key named by a
            // header saying HS256 (the "key confusion" attack) is refused here.
            ErrorKind::InvalidAlgorithm | ErrorKind::InvalidKeyFormat => {
                "the token's algorithm does not fit the key"
            }
            _ => "the token is malformed",
        })
    })?;
    Ok(())
}

/// The bearer token of a request (RFC 6750 §2.1): `None` when there is none.
fn bearer_token(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| ApiError::InvalidToken("the Authorization header is not ASCII"))?;
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => {
            let token = token.trim();
            if token.is_empty() {
                return Err(ApiError::InvalidToken("the bearer token is empty"));
            }
            Ok(Some(token.to_owned()))
        }
        _ => Ok(None),
    }
}

/// A request whose bearer token's signature the lab accepted: all it ever asks of a caller.
#[derive(Debug)]
pub struct Signed;

impl FromRequest for Signed {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = req
                .app_data::<web::Data<LabState>>()
                .ok_or_else(|| ApiError::Unexpected(anyhow::anyhow!("lab state missing")))?
                .clone();
            let token = bearer_token(&req)?.ok_or(ApiError::Unauthenticated)?;
            check(&token, &state).await?;
            Ok(Signed)
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn b64(json: &str) -> String {
        URL_SAFE_NO_PAD.encode(json)
    }

    fn token(header: &str, payload: &str) -> String {
        format!("{}.{}.c2ln", b64(header), b64(payload))
    }

    fn description(result: Result<Checking, ApiError>) -> &'static str {
        match result {
            Err(ApiError::InvalidToken(why)) => why,
            other => panic!("expected invalid_token, got {other:?}"),
        }
    }

    #[test]
    fn alg_none_in_any_case_is_believed() {
        for alg in ["none", "None", "NONE"] {
            let header = format!(r#"{{"alg":"{alg}"}}"#);
            assert_eq!(
                checking(&token(&header, r#"{"sub":"bokafor"}"#)).unwrap(),
                Checking::Unsigned
            );
        }
        // Even with no signature part at all after the last dot.
        let unsigned = format!("{}.{}.", b64(r#"{"alg":"none"}"#), b64("{}"));
        assert_eq!(checking(&unsigned).unwrap(), Checking::Unsigned);
    }

    #[test]
    fn the_header_names_the_algorithm_and_the_key() {
        assert_eq!(
            checking(&token(r#"{"alg":"EdDSA","kid":"k1"}"#, "{}")).unwrap(),
            Checking::Signature {
                alg: Algorithm::EdDSA,
                kid: "k1".into()
            }
        );
        assert_eq!(
            checking(&token(r#"{"alg":"HS256","kid":"k1","typ":"JWT"}"#, "{}")).unwrap(),
            Checking::Signature {
                alg: Algorithm::HS256,
                kid: "k1".into()
            }
        );
    }

    #[test]
    fn what_is_not_a_jwt_is_refused_with_a_reason() {
        assert_eq!(description(checking("abc")), "the token is not a JWT");
        assert_eq!(description(checking("a.b.c.d")), "the token is not a JWT");
        assert_eq!(
            description(checking("!!.e30.c2ln")),
            "the token's header is malformed"
        );
        assert_eq!(
            description(checking(&token(r#"{"alg":"none"}"#, "[1]"))),
            "the token is malformed"
        );
        assert_eq!(
            description(checking(&token(r#"{"alg":"XS999","kid":"k"}"#, "{}"))),
            "the token's algorithm is not known"
        );
        assert_eq!(
            description(checking(&token(r#"{"alg":"EdDSA"}"#, "{}"))),
            "the token names no usable signing key"
        );
        let long = token(
            r#"{"alg":"none"}"#,
            &format!(r#"{{"x":"{}"}}"#, "a".repeat(4096)),
        );
        assert_eq!(description(checking(&long)), "the token is too long");
    }
}
