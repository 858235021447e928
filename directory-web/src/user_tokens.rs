//! Members of staff's own tokens: the password grant (the person's username and password plus
//! the site's own client credentials), refresh, and revocation at sign-out — all through the
//! oauth2 crate's client, whose HTTP client has timeouts and follows no redirects.

use std::sync::Arc;
use std::time::Duration;

use oauth2::basic::{BasicClient, BasicErrorResponseType};
use oauth2::{
    ClientId, ClientSecret, EndpointNotSet, EndpointSet, RefreshToken, RequestTokenError,
    ResourceOwnerPassword, ResourceOwnerUsername, TokenResponse as _, TokenUrl,
};
use secrecy::{ExposeSecret as _, SecretString};

use crate::clock::Clock;
use crate::session::SignedIn;

type OAuthClient =
    BasicClient<EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// Why a sign-in failed.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// Wrong username or password (one answer for both).
    #[error("invalid username or password")]
    BadCredentials,
    /// Too many failed attempts for this account.
    #[error("too many attempts")]
    Throttled,
    /// The authorization server could not be reached or failed.
    #[error("the authorization server is unavailable: {0}")]
    Unavailable(String),
}

/// Obtains, renews and revokes members of staff's tokens.
pub struct UserTokens {
    oauth: OAuthClient,
    http: reqwest::Client,
    clock: Arc<dyn Clock>,
    revocation_url: String,
    introspection_url: String,
    client_id: String,
    client_secret: SecretString,
}

impl UserTokens {
    /// For the site `client_id` at `issuer`.
    pub fn new(
        issuer: &str,
        client_id: &str,
        client_secret: &SecretString,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(2))
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let oauth = BasicClient::new(ClientId::new(client_id.to_owned()))
            .set_client_secret(ClientSecret::new(client_secret.expose_secret().to_owned()))
            .set_token_uri(TokenUrl::new(format!("{issuer}/oauth/token"))?);
        Ok(Self {
            oauth,
            http,
            clock,
            revocation_url: format!("{issuer}/oauth/revoke"),
            introspection_url: format!("{issuer}/oauth/introspect"),
            client_id: client_id.to_owned(),
            client_secret: client_secret.clone(),
        })
    }

    fn signed_in(
        &self,
        username: &str,
        response: &oauth2::basic::BasicTokenResponse,
    ) -> Option<SignedIn> {
        let now = self.clock.now();
        Some(SignedIn {
            username: username.to_owned(),
            access_token: response.access_token().secret().to_owned(),
            access_expires_at: now
                + response
                    .expires_in()
                    .map_or(60, |d| i64::try_from(d.as_secs()).unwrap_or(60)),
            refresh_token: response.refresh_token()?.secret().to_owned(),
            last_seen: now,
            flash: None,
        })
    }

    /// The password grant.
    pub async fn sign_in(
        &self,
        username: &str,
        password: &SecretString,
    ) -> Result<SignedIn, SignInError> {
        let response = self
            .oauth
            .exchange_password(
                &ResourceOwnerUsername::new(username.to_owned()),
                &ResourceOwnerPassword::new(password.expose_secret().to_owned()),
            )
            .request_async(&crate::api::forwarding_client(&self.http))
            .await;
        match response {
            Ok(r) => {
                // The token's subject is the canonical username (sign-in folds case).
                let claims_sub = crate::routes::pages::token_subject(r.access_token().secret());
                self.signed_in(claims_sub.as_deref().unwrap_or(username), &r)
                    .ok_or_else(|| SignInError::Unavailable("no refresh token was issued".into()))
            }
            Err(RequestTokenError::ServerResponse(e))
                if *e.error() == BasicErrorResponseType::InvalidGrant =>
            {
                if e.error_description()
                    .is_some_and(|d| d.contains("too many"))
                {
                    Err(SignInError::Throttled)
                } else {
                    Err(SignInError::BadCredentials)
                }
            }
            Err(RequestTokenError::ServerResponse(e))
                if *e.error() == BasicErrorResponseType::InvalidRequest =>
            {
                Err(SignInError::BadCredentials)
            }
            Err(e) => Err(SignInError::Unavailable(e.to_string())),
        }
    }

    /// New tokens for a signed-in member of staff (the refresh token is rotated). `None` when
    /// the sign-in is over (expired, revoked, reused, user disabled): they must sign in again.
    pub async fn refresh(&self, user: &SignedIn) -> Result<Option<SignedIn>, SignInError> {
        let response = self
            .oauth
            .exchange_refresh_token(&RefreshToken::new(user.refresh_token.clone()))
            .request_async(&crate::api::forwarding_client(&self.http))
            .await;
        match response {
            Ok(r) => Ok(self.signed_in(&user.username, &r)),
            Err(RequestTokenError::ServerResponse(_)) => Ok(None),
            Err(e) => Err(SignInError::Unavailable(e.to_string())),
        }
    }

    /// Whether the authorization server still considers `user`'s access token active (RFC
    /// 7662, asked as the client it was issued to). This is what makes a sign-out, a password
    /// change or a disabled account end a session at once, even when an old cookie is replayed.
    pub async fn is_active(&self, user: &SignedIn) -> Result<bool, SignInError> {
        let encode = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let response = self
            .http
            .post(&self.introspection_url)
            .headers(crate::api::request_id_header())
            .basic_auth(
                encode(&self.client_id),
                Some(encode(self.client_secret.expose_secret())),
            )
            .form(&[
                ("token", user.access_token.as_str()),
                ("token_type_hint", "access_token"),
            ])
            .send()
            .await
            .map_err(|e| SignInError::Unavailable(e.to_string()))?;
        if !response.status().is_success() {
            return Err(SignInError::Unavailable(format!(
                "introspection answered {}",
                response.status()
            )));
        }
        let answer: serde_json::Value = response
            .json()
            .await
            .map_err(|e| SignInError::Unavailable(e.to_string()))?;
        Ok(answer["active"] == true)
    }

    /// Revokes a sign-in (RFC 7009): its refresh token, and with it the whole family. Sent
    /// here rather than through the oauth2 crate, which refuses a revocation endpoint that is
    /// not `https` — and the demo's authorization server is plain HTTP on loopback.
    pub async fn revoke(&self, user: &SignedIn) {
        let encode = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let result = self
            .http
            .post(&self.revocation_url)
            .headers(crate::api::request_id_header())
            // RFC 6749 §2.3.1: the id and secret are form-encoded inside Basic.
            .basic_auth(
                encode(&self.client_id),
                Some(encode(self.client_secret.expose_secret())),
            )
            .form(&[
                ("token", user.refresh_token.as_str()),
                ("token_type_hint", "refresh_token"),
            ])
            .send()
            .await;
        match result {
            Ok(r) if r.status().is_success() => {}
            Ok(r) => {
                tracing::warn!(status = %r.status(), "the authorization server refused the revocation")
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not revoke a sign-in at the authorization server")
            }
        }
    }
}
