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
mod tests;
