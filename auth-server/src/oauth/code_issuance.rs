//! The authorization endpoint's side of the service (RFC 6749 §4.1.1, §4.1.2): looking up what
//! a request names, and issuing a code once the person's password is checked.

use secrecy::SecretString;
use service_kit::liveness::Liveness;

use super::authorize::{
    AuthorizationRequest, AuthorizeError, CODE_LIFETIME_SECS, check, client_id,
};
use super::form::FormParams;
use super::secrets::{random_token, sha256_hex};
use super::service::TokenService;
use crate::error::Result;
use crate::store::codes::NewCode;

/// A code issued to a signed-in person.
#[derive(Debug)]
pub struct Issued {
    /// The code: 256 random bits, base64url (only its hash is stored).
    pub code: SecretString,
    /// A device token for the browser (see [`super::device`]).
    pub device_token: String,
}

impl TokenService {
    /// Checks an authorization request (see [`check`] for the order). The outer error is this
    /// server's failure; the inner one is the request's.
    pub async fn authorization_request(
        &self,
        params: &FormParams,
    ) -> Result<Result<AuthorizationRequest, AuthorizeError>> {
        let id = match client_id(params) {
            Ok(id) => id,
            Err(e) => return Ok(Err(e)),
        };
        let client = self.db.client(&id).await?;
        let registered = match &client {
            Some(_) => self.db.redirect_uris(&id).await?,
            None => Vec::new(),
        };
        Ok(check(params, client, &registered))
    }

    /// Checks the person's password exactly as the password grant does
    /// ([`TokenService::check_password`]: the same hashing, throttling and device rules) and
    /// issues a code bound to the client, the redirect URI, the PKCE challenge, the person and
    /// the scope, redeemable once within [`CODE_LIFETIME_SECS`].
    pub async fn issue_code(
        &self,
        request: &AuthorizationRequest,
        raw_username: &str,
        password: &SecretString,
        device_token: Option<&str>,
        requester: Option<&Liveness>,
    ) -> Result<Issued> {
        let signed = self
            .check_password(
                &request.client,
                raw_username,
                password,
                device_token,
                requester,
            )
            .await?;
        let now = self.clock.now();
        let code = random_token();
        self.db
            .insert_code(&NewCode {
                code_hash: &sha256_hex(&code),
                client_id: request.client.client_id.as_str(),
                redirect_uri: request.redirect_uri.as_str(),
                code_challenge: request.code_challenge.as_str(),
                username: signed.user.username.as_str(),
                scope: &request.scope.to_string(),
                created_at: now,
                expires_at: now + CODE_LIFETIME_SECS,
            })
            .await?;
        Ok(Issued {
            code: SecretString::from(code),
            device_token: self.device_token(&signed, &request.client, now)?,
        })
    }

    /// The guard of the sign-in page's form.
    pub fn form_guard(&self) -> &super::form_guard::FormGuard {
        &self.form_guard
    }

    /// The current time of the service's clock.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }
}
