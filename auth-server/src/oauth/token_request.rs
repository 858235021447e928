//! The token endpoint's form (RFC 6749 §4.1.3, §4.3.2, §4.4.2, §6), parsed once into a typed request:
//! one variant per grant, each holding exactly its parameters. Every grant then receives what
//! it needs and nothing else; parameters a grant does not use are ignored, as before.

use std::fmt;

use secrecy::SecretString;

use super::error::OAuthError;
use super::form::FormParams;
use super::password::MAX_PASSWORD_BYTES;
use super::pkce::CodeVerifier;
use super::policy::{ClientPolicy, GrantPolicy, GrantType};
use super::scope::ScopeSet;

/// A token request, by grant.
pub enum TokenRequest {
    /// RFC 6749 §4.4.2: the client's own token.
    ClientCredentials {
        /// The `scope` asked for; `None` when absent or empty (§3.3).
        scope: Option<ScopeSet>,
    },
    /// RFC 6749 §4.3.2: a resource owner's username and password.
    Password {
        /// The `username` as sent: parsed only once a hashing place is taken, so that a
        /// username that cannot exist still costs one hash, like an unknown one.
        username: String,
        /// The `password`, at most [`MAX_PASSWORD_BYTES`] long.
        password: SecretString,
        /// The `scope` asked for.
        scope: Option<ScopeSet>,
        /// The `device_token` extension parameter (see [`super::device`]), not yet verified.
        device: Option<String>,
    },
    /// RFC 6749 §6: a refresh token to rotate.
    RefreshToken {
        /// The `refresh_token` as sent.
        refresh_token: SecretString,
        /// The `scope` asked for: at most the family's (§6).
        scope: Option<ScopeSet>,
    },
    /// RFC 6749 §4.1.3 with RFC 7636 §4.5: a code to exchange.
    AuthorizationCode {
        /// The `code` as sent.
        code: SecretString,
        /// The `redirect_uri`: always required here, as every authorization request names
        /// one (§4.1.3).
        redirect_uri: String,
        /// The `code_verifier`, checked against the RFC 7636 §4.1 grammar.
        code_verifier: CodeVerifier,
    },
}

/// Never shows usernames, passwords or tokens.
impl fmt::Debug for TokenRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scope = match self {
            Self::ClientCredentials { scope }
            | Self::Password { scope, .. }
            | Self::RefreshToken { scope, .. } => *scope,
            Self::AuthorizationCode { .. } => None,
        };
        f.debug_struct("TokenRequest")
            .field("grant_type", &self.grant_type())
            .field("scope", &scope)
            .finish_non_exhaustive()
    }
}

impl TokenRequest {
    /// Parses the form of a client whose grants are `policy`, and returns the policy row that
    /// governs the request with it. The checks run in this order, which is the order of the
    /// errors a client sees (RFC 6749 §5.2):
    ///
    /// 1. `grant_type` is present (`invalid_request`) and supported (`unsupported_grant_type`);
    /// 2. the client may use it (`unauthorized_client`), before its parameters are looked at;
    /// 3. the grant's own parameters: missing ones are `invalid_request`, a malformed `scope`
    ///    is `invalid_scope`.
    ///
    /// Repeated parameters were refused when the form was read ([`FormParams::parse`]).
    pub fn parse(
        params: &FormParams,
        policy: &ClientPolicy,
    ) -> Result<(GrantPolicy, Self), OAuthError> {
        let grant: GrantType = params
            .require("grant_type", "the grant_type parameter is missing")?
            .parse()?;
        let row = *policy.row(grant)?;
        let request = match grant {
            GrantType::ClientCredentials => Self::ClientCredentials {
                scope: requested_scope(params)?,
            },
            GrantType::Password => {
                let username = params.require("username", "the username parameter is missing")?;
                let password = params.require("password", "the password parameter is missing")?;
                if password.len() > MAX_PASSWORD_BYTES {
                    return Err(OAuthError::invalid_request("the password is too long"));
                }
                Self::Password {
                    username: username.to_owned(),
                    password: SecretString::from(password),
                    scope: requested_scope(params)?,
                    device: params.get("device_token").map(str::to_owned),
                }
            }
            GrantType::RefreshToken => Self::RefreshToken {
                refresh_token: SecretString::from(
                    params.require("refresh_token", "the refresh_token parameter is missing")?,
                ),
                scope: requested_scope(params)?,
            },
            GrantType::AuthorizationCode => {
                let code = params.require("code", "the code parameter is missing")?;
                let redirect_uri =
                    params.require("redirect_uri", "the redirect_uri parameter is missing")?;
                let verifier =
                    params.require("code_verifier", "the code_verifier parameter is missing")?;
                // RFC 7636 §4.1: 43 to 128 characters of the unreserved set.
                let code_verifier = CodeVerifier::parse(verifier).ok_or(
                    OAuthError::invalid_request("the code_verifier parameter is malformed"),
                )?;
                Self::AuthorizationCode {
                    code: SecretString::from(code),
                    redirect_uri: redirect_uri.to_owned(),
                    code_verifier,
                }
            }
        };
        Ok((row, request))
    }

    /// The grant this request is for.
    pub fn grant_type(&self) -> GrantType {
        match self {
            Self::ClientCredentials { .. } => GrantType::ClientCredentials,
            Self::Password { .. } => GrantType::Password,
            Self::RefreshToken { .. } => GrantType::RefreshToken,
            Self::AuthorizationCode { .. } => GrantType::AuthorizationCode,
        }
    }
}

/// The `scope` parameter, parsed; `None` when absent or empty (§3.2, §3.3).
fn requested_scope(params: &FormParams) -> Result<Option<ScopeSet>, OAuthError> {
    params
        .get("scope")
        .map(ScopeSet::parse)
        .transpose()
        .map_err(OAuthError::from)
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret as _;

    use super::super::error::ErrorCode;
    use super::*;

    fn set(s: &str) -> ScopeSet {
        ScopeSet::parse(s).unwrap()
    }

    /// A client that may use every grant.
    fn everything() -> ClientPolicy {
        let mut policy = ClientPolicy::default();
        policy.set(
            GrantPolicy::new(
                GrantType::ClientCredentials,
                set("directory:read"),
                set("directory:read"),
            )
            .unwrap(),
        );
        policy.set(
            GrantPolicy::new(
                GrantType::Password,
                set("directory:read profile:write"),
                set("directory:read"),
            )
            .unwrap(),
        );
        policy
    }

    fn parse(body: &str, policy: &ClientPolicy) -> Result<TokenRequest, OAuthError> {
        let params = FormParams::parse(body.as_bytes())?;
        TokenRequest::parse(&params, policy).map(|(_, request)| request)
    }

    fn error(body: &str, policy: &ClientPolicy) -> (ErrorCode, &'static str) {
        let e = parse(body, policy).unwrap_err();
        (e.code, e.description)
    }

    #[test]
    fn each_grant_gets_exactly_its_parameters() {
        let p = everything();
        let cc = parse(
            "grant_type=client_credentials&username=x&scope=directory:read",
            &p,
        );
        assert!(matches!(
            cc.unwrap(),
            TokenRequest::ClientCredentials { scope: Some(s) } if s == set("directory:read")
        ));
        let pw = parse(
            "grant_type=password&username=alice&password=a+b%26c&device_token=d&refresh_token=r",
            &p,
        )
        .unwrap();
        let TokenRequest::Password {
            username,
            password,
            scope,
            device,
        } = pw
        else {
            panic!("not a password request");
        };
        assert_eq!(username, "alice");
        assert_eq!(password.expose_secret(), "a b&c");
        assert_eq!(scope, None);
        assert_eq!(device.as_deref(), Some("d"));
        let rt = parse("grant_type=refresh_token&refresh_token=r1&scope=", &p).unwrap();
        let TokenRequest::RefreshToken {
            refresh_token,
            scope,
        } = rt
        else {
            panic!("not a refresh request");
        };
        assert_eq!(refresh_token.expose_secret(), "r1");
        // §3.2: an empty parameter is an omitted one.
        assert_eq!(scope, None);
    }

    #[test]
    fn the_grant_type_is_required_and_must_be_supported() {
        let p = everything();
        assert_eq!(
            error("username=alice", &p),
            (
                ErrorCode::InvalidRequest,
                "the grant_type parameter is missing"
            )
        );
        assert_eq!(
            error("grant_type=implicit&code=x", &p).0,
            ErrorCode::UnsupportedGrantType
        );
    }

    #[test]
    fn a_grant_the_client_may_not_use_is_refused_before_its_parameters_are_read() {
        let none = ClientPolicy::default();
        assert_eq!(
            error("grant_type=password", &none).0,
            ErrorCode::UnauthorizedClient
        );
        assert_eq!(
            error("grant_type=refresh_token", &none).0,
            ErrorCode::UnauthorizedClient
        );
        assert_eq!(
            error("grant_type=client_credentials&scope=nonsense", &none).0,
            ErrorCode::UnauthorizedClient
        );
    }

    #[test]
    fn missing_parameters_are_invalid_request_in_order() {
        let p = everything();
        assert_eq!(
            error("grant_type=password&password=x", &p),
            (
                ErrorCode::InvalidRequest,
                "the username parameter is missing"
            )
        );
        assert_eq!(
            error("grant_type=password&username=alice&password=", &p),
            (
                ErrorCode::InvalidRequest,
                "the password parameter is missing"
            )
        );
        assert_eq!(
            error("grant_type=refresh_token&scope=directory:read", &p),
            (
                ErrorCode::InvalidRequest,
                "the refresh_token parameter is missing"
            )
        );
    }

    #[test]
    fn a_password_too_long_is_refused_before_the_scope_is_read() {
        let p = everything();
        let body = format!(
            "grant_type=password&username=alice&password={}&scope=nonsense",
            "a".repeat(MAX_PASSWORD_BYTES + 1)
        );
        assert_eq!(
            error(&body, &p),
            (ErrorCode::InvalidRequest, "the password is too long")
        );
        let longest = format!(
            "grant_type=password&username=alice&password={}",
            "a".repeat(MAX_PASSWORD_BYTES)
        );
        assert!(parse(&longest, &p).is_ok());
    }

    #[test]
    fn a_code_exchange_needs_its_code_redirect_uri_and_a_well_formed_verifier_in_order() {
        let mut p = everything();
        assert_eq!(
            error("grant_type=authorization_code", &p).0,
            ErrorCode::UnauthorizedClient
        );
        p.set(
            GrantPolicy::new(
                GrantType::AuthorizationCode,
                set("directory:read profile:write"),
                set("directory:read"),
            )
            .unwrap(),
        );
        let v = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert_eq!(
            error(
                &format!("grant_type=authorization_code&redirect_uri=x&code_verifier={v}"),
                &p
            ),
            (ErrorCode::InvalidRequest, "the code parameter is missing")
        );
        assert_eq!(
            error(
                &format!("grant_type=authorization_code&code=c&code_verifier={v}"),
                &p
            ),
            (
                ErrorCode::InvalidRequest,
                "the redirect_uri parameter is missing"
            )
        );
        assert_eq!(
            error("grant_type=authorization_code&code=c&redirect_uri=x", &p),
            (
                ErrorCode::InvalidRequest,
                "the code_verifier parameter is missing"
            )
        );
        assert_eq!(
            error(
                "grant_type=authorization_code&code=c&redirect_uri=x&code_verifier=short",
                &p
            ),
            (
                ErrorCode::InvalidRequest,
                "the code_verifier parameter is malformed"
            )
        );
        let ok = parse(
            &format!("grant_type=authorization_code&code=c&redirect_uri=x&code_verifier={v}"),
            &p,
        )
        .unwrap();
        assert!(matches!(
            ok,
            TokenRequest::AuthorizationCode { redirect_uri, .. } if redirect_uri == "x"
        ));
    }

    #[test]
    fn a_malformed_scope_is_invalid_scope() {
        let p = everything();
        assert_eq!(
            error("grant_type=client_credentials&scope=nonsense", &p).0,
            ErrorCode::InvalidScope
        );
    }

    #[test]
    fn repeated_parameters_never_reach_a_grant() {
        let e = FormParams::parse(b"grant_type=password&username=a&username=b").unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidRequest);
    }

    #[test]
    fn debug_shows_no_credentials() {
        let request = parse(
            "grant_type=password&username=alice&password=hunter22&device_token=dt",
            &everything(),
        )
        .unwrap();
        let shown = format!("{request:?}");
        assert!(!shown.contains("alice") && !shown.contains("hunter22") && !shown.contains("dt\""));
    }
}
