//! Members of staff's own tokens: the password grant (the person's username and password plus
//! the site's own client credentials), the authorization code grant with PKCE (`code.rs`),
//! refresh, and revocation at sign-out — all through the oauth2 crate's client, whose HTTP
//! client has timeouts and follows no redirects.
//!
//! A locked account is told from a wrong password by the HTTP status the authorization server
//! answers (429, with `Retry-After`), never by the wording of its `error_description`, which is
//! for people and may change.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use oauth2::basic::{
    BasicErrorResponse, BasicErrorResponseType, BasicRevocationErrorResponse,
    BasicTokenIntrospectionResponse, BasicTokenType,
};
use oauth2::{
    AuthUrl, ClientId, ClientSecret, EndpointNotSet, EndpointSet, RedirectUrl, RefreshToken,
    RequestTokenError, ResourceOwnerPassword, ResourceOwnerUsername, TokenResponse as _, TokenUrl,
};
use secrecy::{ExposeSecret as _, SecretString};

use crate::session::{SignInGrant, SignedIn};
use service_kit::clock::Clock;

mod code;
mod introspection;
mod refusal;

pub use code::{AuthorizationRequest, CodeExchangeError};
pub use introspection::Introspected;

use refusal::{Seen, refused, retry_after_secs};

/// The extension parameter of this authorization server's token response: a device token,
/// after a password sign-in (see `crate::device`).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct DeviceField {
    /// The device token for the browser that signed in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_token: Option<String>,
}

impl oauth2::ExtraTokenFields for DeviceField {}

/// A token response, with the device token when there is one.
type TokenAnswer = oauth2::StandardTokenResponse<DeviceField, BasicTokenType>;

type OAuthClient = oauth2::Client<
    BasicErrorResponse,
    TokenAnswer,
    BasicTokenIntrospectionResponse,
    oauth2::StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// Why a sign-in failed.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// Wrong username or password (one answer for both).
    #[error("invalid username or password")]
    BadCredentials,
    /// Too many failed attempts for this account: the authorization server answered 429, and
    /// `Retry-After` (seconds) when it said how long the lock lasts.
    #[error("too many attempts")]
    Throttled {
        /// The authorization server's `Retry-After`, in seconds.
        retry_after: Option<u64>,
    },
    /// The authorization server could not be reached or failed.
    #[error("the authorization server is unavailable: {0}")]
    Unavailable(String),
}

/// Why a refresh gave no new tokens.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RefreshError {
    /// The authorization server refused the refresh token (RFC 6749 §5.2): the sign-in is over
    /// here. `invalid_grant` says whether it was that error (the token is expired, revoked, or
    /// already used).
    #[error("the authorization server refused the refresh")]
    Refused {
        /// Whether the error was `invalid_grant`.
        invalid_grant: bool,
    },
    /// The authorization server could not be reached or failed.
    #[error("the authorization server is unavailable: {0}")]
    Unavailable(String),
}

/// Which kind of token a revocation names (RFC 7009 §2.1 `token_type_hint`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenHint {
    /// A refresh token: revoking it ends the whole sign-in at the authorization server.
    RefreshToken,
    /// An access token: revoked until it expires.
    AccessToken,
}

impl TokenHint {
    /// The RFC 7009 value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RefreshToken => "refresh_token",
            Self::AccessToken => "access_token",
        }
    }
}

/// Why a revocation did not happen; the token may still be live.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the revocation failed: {0}")]
pub struct RevokeFailed(pub String);

/// Obtains, renews and revokes members of staff's tokens.
#[derive(Clone)]
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
    /// For the site `client_id` at `issuer`, whose authorization code flow comes back to
    /// `redirect_uri` (`{public URL}/sign-in/callback`).
    pub fn new(
        issuer: &str,
        client_id: &str,
        client_secret: &SecretString,
        redirect_uri: &str,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(2))
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let oauth = oauth2::Client::new(ClientId::new(client_id.to_owned()))
            .set_client_secret(ClientSecret::new(client_secret.expose_secret().to_owned()))
            .set_auth_uri(AuthUrl::new(format!("{issuer}/oauth/authorize"))?)
            .set_token_uri(TokenUrl::new(format!("{issuer}/oauth/token"))?)
            .set_redirect_uri(RedirectUrl::new(redirect_uri.to_owned())?);
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
        grant: SignInGrant,
        response: &TokenAnswer,
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
            grant,
        })
    }

    /// The password grant, with this browser's device token for `username` when it has one.
    /// On success, the sign-in and the (renewed) device token for the browser.
    pub async fn sign_in(
        &self,
        username: &str,
        password: &SecretString,
        device_token: Option<&str>,
    ) -> Result<(SignedIn, Option<String>), SignInError> {
        // The oauth2 crate's error keeps the body, not the status: the HTTP function records it.
        let seen: Seen = Mutex::new(None);
        let forward = crate::outbound::forwarding_client(&self.http);
        let recording = |request: oauth2::HttpRequest| {
            let call = oauth2::AsyncHttpClient::call(&forward, request);
            let seen = &seen;
            async move {
                let response = call.await?;
                let status = (
                    response.status().as_u16(),
                    retry_after_secs(response.headers()),
                );
                *seen.lock().unwrap_or_else(|p| p.into_inner()) = Some(status);
                Ok::<_, oauth2::HttpClientError<reqwest::Error>>(response)
            }
        };
        let owner = ResourceOwnerUsername::new(username.to_owned());
        let secret = ResourceOwnerPassword::new(password.expose_secret().to_owned());
        let mut request = self.oauth.exchange_password(&owner, &secret);
        if let Some(token) = device_token {
            request = request.add_extra_param("device_token", token.to_owned());
        }
        let response = request.request_async(&recording).await;
        let seen = *seen.lock().unwrap_or_else(|p| p.into_inner());
        match response {
            Ok(r) => {
                // The canonical username (sign-in folds case) is the one the authorization
                // server vouches for at introspection, not one read from the token (RFC 9068
                // §6), nor the one typed.
                let canonical = self
                    .owner_or_revoke(r.access_token().secret(), r.refresh_token())
                    .await?;
                let user = self
                    .signed_in(&canonical, SignInGrant::Password, &r)
                    .ok_or_else(|| {
                        SignInError::Unavailable("no refresh token was issued".into())
                    })?;
                Ok((user, r.extra_fields().device_token.clone()))
            }
            Err(e) => {
                let refusal = match &e {
                    RequestTokenError::ServerResponse(answer) => refused(seen, answer.error()),
                    _ => None,
                };
                Err(refusal.unwrap_or_else(|| SignInError::Unavailable(e.to_string())))
            }
        }
    }

    /// New tokens for a signed-in member of staff (the refresh token is rotated, RFC 6749 §6).
    /// [`RefreshError::Refused`] when the sign-in is over (expired, revoked, reused, user
    /// disabled, or the token already rotated by another request): they must sign in again.
    pub async fn refresh(&self, user: &SignedIn) -> Result<SignedIn, RefreshError> {
        let response = self
            .oauth
            .exchange_refresh_token(&RefreshToken::new(user.refresh_token.clone()))
            .request_async(&crate::outbound::forwarding_client(&self.http))
            .await;
        match response {
            Ok(r) => self
                .signed_in(&user.username, user.grant, &r)
                .ok_or(RefreshError::Refused {
                    invalid_grant: false,
                }),
            Err(RequestTokenError::ServerResponse(e)) => Err(RefreshError::Refused {
                invalid_grant: *e.error() == BasicErrorResponseType::InvalidGrant,
            }),
            Err(e) => Err(RefreshError::Unavailable(e.to_string())),
        }
    }

    /// Revokes one token (RFC 7009 §2.1): a refresh token ends its whole sign-in, an access
    /// token is refused until it expires. Sent here rather than through the oauth2 crate, which
    /// refuses a revocation endpoint that is not `https` — and the demo's authorization server
    /// is plain HTTP on loopback. Only a 200 counts as done (§2.2: the answer even for a token
    /// already invalid); anything else, or no answer, leaves the token possibly live.
    pub async fn revoke(&self, token: &SecretString, hint: TokenHint) -> Result<(), RevokeFailed> {
        let encode = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let response = self
            .http
            .post(&self.revocation_url)
            .headers(crate::outbound::request_id_header())
            // RFC 6749 §2.3.1: the id and secret are form-encoded inside Basic.
            .basic_auth(
                encode(&self.client_id),
                Some(encode(self.client_secret.expose_secret())),
            )
            .form(&[
                ("token", token.expose_secret()),
                ("token_type_hint", hint.as_str()),
            ])
            .send()
            .await
            .map_err(|e| RevokeFailed(format!("no answer: {e}")))?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(RevokeFailed(format!("answered {}", response.status())))
        }
    }
}
