//! The authorization code grant with PKCE, through the oauth2 crate: the authorization
//! request (RFC 6749 §4.1.1 with RFC 7636 §4.3, `S256`), and the exchange of the code for the
//! person's tokens (§4.1.3 with RFC 7636 §4.5), the site authenticating as for every grant.

use oauth2::basic::BasicErrorResponseType;
use oauth2::{
    AuthorizationCode, CsrfToken, PkceCodeChallenge, PkceCodeVerifier, RequestTokenError, Scope,
    TokenResponse as _,
};

use super::{SignInGrant, SignedIn, UserTokens};

/// The scopes a member of staff's sign-in asks for, the same with either grant.
pub const USER_SCOPES: [&str; 2] = ["directory:read", "profile:write"];

/// An authorization request, ready to send the browser to.
pub struct AuthorizationRequest {
    /// `{issuer}/oauth/authorize?response_type=code&client_id=…&state=…&code_challenge=…&
    /// code_challenge_method=S256&redirect_uri=…&scope=…`.
    pub url: String,
    /// The `state` sent, to keep in the session.
    pub state: String,
    /// The PKCE verifier whose S256 challenge was sent, to keep in the session.
    pub verifier: String,
}

/// Why a code gave no tokens.
#[derive(Debug, thiserror::Error)]
pub enum CodeExchangeError {
    /// The authorization server refused the code (RFC 6749 §5.2: `invalid_grant` for a code
    /// expired, already used, or not issued for this verifier or redirect URI; another code
    /// when it refused this site): nobody is signed in; the person starts again.
    #[error("the authorization server refused the code: {0}")]
    Refused(String),
    /// The authorization server could not be reached or failed, or its answer lacked what a
    /// sign-in needs.
    #[error("the authorization server is unavailable: {0}")]
    Unavailable(String),
}

impl UserTokens {
    /// A new authorization request: a fresh random `state` (the oauth2 crate's
    /// `CsrfToken::new_random`, 128 bits) and PKCE pair (`new_random_sha256`: a 256-bit
    /// verifier, its S256 challenge sent), the redirect URI, and the scopes a member of staff is given (`directory:read profile:write`).
    pub fn authorization_request(&self) -> AuthorizationRequest {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state) = self
            .oauth
            .authorize_url(CsrfToken::new_random)
            .add_scopes(USER_SCOPES.map(|s| Scope::new(s.to_owned())))
            .set_pkce_challenge(challenge)
            .url();
        AuthorizationRequest {
            url: url.to_string(),
            state: state.secret().to_owned(),
            verifier: verifier.secret().to_owned(),
        }
    }

    /// Exchanges `code` with the sign-in's PKCE `verifier` (and the redirect URI it was issued
    /// for) for the person's tokens. On success, the sign-in (its username is the one the
    /// authorization server gives at introspection) and the browser's device token when the authorization server gave one.
    pub async fn exchange_code(
        &self,
        code: &str,
        verifier: &str,
    ) -> Result<(SignedIn, Option<String>), CodeExchangeError> {
        let response = self
            .oauth
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .set_pkce_verifier(PkceCodeVerifier::new(verifier.to_owned()))
            .request_async(&crate::outbound::forwarding_client(&self.http))
            .await;
        match response {
            Ok(r) => {
                // Here the site never saw a username: the authorization server says whose
                // token it issued (introspection), rather than the site reading the token's
                // `sub` (RFC 9068 §6: clients do not inspect access tokens).
                let username = self
                    .owner_or_revoke(r.access_token().secret(), r.refresh_token())
                    .await
                    .map_err(|e| CodeExchangeError::Unavailable(e.to_string()))?;
                let user = self
                    .signed_in(&username, SignInGrant::AuthorizationCode, &r)
                    .ok_or_else(|| {
                        CodeExchangeError::Unavailable("no refresh token was issued".into())
                    })?;
                Ok((user, r.extra_fields().device_token.clone()))
            }
            Err(RequestTokenError::ServerResponse(answer)) => {
                let refused = answer.error();
                match refused {
                    BasicErrorResponseType::Extension(code)
                        if code == "temporarily_unavailable" =>
                    {
                        Err(CodeExchangeError::Unavailable(code.clone()))
                    }
                    other => Err(CodeExchangeError::Refused(other.to_string())),
                }
            }
            Err(e) => Err(CodeExchangeError::Unavailable(e.to_string())),
        }
    }
}
