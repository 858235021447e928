//! The token endpoint's grants (RFC 6749 §4.1.3, §4.3, §4.4, §6), one module per grant, and what they
//! share: the dispatch on the typed request, the access token's claims and the response.
//!
//! A grant module holds one `impl TokenService` block with one method, which receives the
//! authenticated client, its policy row for the grant and exactly the grant's parameters (a
//! variant of [`TokenRequest`]), loads what it needs, asks a pure function for any decision
//! that carries a security argument, and acts on the answer.

mod authorization_code;
mod client_credentials;
mod password;
mod refresh_token;

use serde::Serialize;
use service_kit::liveness::Liveness;

use super::policy::GrantPolicy;
use super::scope::ScopeSet;
use super::secrets::{random_b64, random_token, sha256_hex};
use super::service::TokenService;
use super::token_request::TokenRequest;
use super::tokens::{AccessClaims, TokenKind, sign};
use super::username::Username;
use crate::error::Result;
use crate::store::clients::ClientRecord;
use crate::store::refresh::NewFamily;

/// A successful token response (RFC 6749 §5.1).
#[derive(Debug, Serialize)]
pub struct TokenResponse {
    /// The JWT access token.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Lifetime of the access token, in seconds.
    pub expires_in: i64,
    /// The granted scope; always sent, so the client never has to guess (§3.3, §5.1).
    pub scope: String,
    /// A new refresh token (the grants that sign a person in, and refresh; never
    /// client_credentials, §4.4.3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// A device token for the browser the person signed in from (password grant only): an
    /// extension parameter (§5.1), see [`super::device`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_token: Option<String>,
}

impl TokenService {
    /// The token endpoint, after client authentication and parsing ([`TokenRequest::parse`],
    /// which also found the client's policy `row` for the grant). `requester` tells whether
    /// the client is still connected, so that a password hash queued for it is skipped once
    /// it has gone.
    pub async fn token(
        &self,
        client: &ClientRecord,
        row: &GrantPolicy,
        request: TokenRequest,
        requester: Option<&Liveness>,
    ) -> Result<TokenResponse> {
        let grant = request.grant_type();
        let response = match request {
            TokenRequest::ClientCredentials { scope } => {
                self.client_credentials(client, row, scope).await?
            }
            TokenRequest::Password {
                username,
                password,
                scope,
                device,
            } => {
                self.password(
                    client,
                    row,
                    &username,
                    &password,
                    scope,
                    device.as_deref(),
                    requester,
                )
                .await?
            }
            TokenRequest::RefreshToken {
                refresh_token,
                scope,
            } => self.refresh(client, row, &refresh_token, scope).await?,
            TokenRequest::AuthorizationCode {
                code,
                redirect_uri,
                code_verifier,
            } => {
                self.authorization_code(client, row, &code, &redirect_uri, &code_verifier)
                    .await?
            }
        };
        self.metrics
            .token_issued(grant.as_str(), client.client_id.as_str());
        Ok(response)
    }

    /// The claims of a new access token for `sub`, with the lifetime of its kind.
    pub(super) fn claims(
        &self,
        kind: TokenKind,
        sub: &str,
        client: &ClientRecord,
        scope: ScopeSet,
        sid: Option<String>,
        now: i64,
    ) -> AccessClaims {
        let ttl = match kind {
            TokenKind::Client => self.lifetimes.client_access,
            TokenKind::User => self.lifetimes.user_access,
        };
        AccessClaims {
            iss: self.issuer.clone(),
            sub: sub.to_owned(),
            aud: self.audience.clone(),
            exp: now + ttl,
            iat: now,
            nbf: now,
            jti: random_b64(16),
            client_id: client.client_id.to_string(),
            scope: scope.to_string(),
            token_kind: kind,
            sid,
        }
    }

    /// Starts a sign-in's refresh-token family `family_id` for `username` through `client`
    /// with `scope` (every refresh token of the family keeps it), and returns its first
    /// refresh token. Shared by the grants that sign a person in.
    pub(super) async fn new_family(
        &self,
        client: &ClientRecord,
        username: &Username,
        scope: ScopeSet,
        family_id: &str,
        now: i64,
    ) -> Result<String> {
        let refresh_token = random_token();
        let family_expires = now + self.lifetimes.refresh_max;
        self.db
            .create_family(&NewFamily {
                family_id,
                client_id: client.client_id.as_str(),
                username: username.as_str(),
                scope: &scope.to_string(),
                created_at: now,
                expires_at: family_expires,
                token_hash: &sha256_hex(&refresh_token),
                token_expires_at: (now + self.lifetimes.refresh_idle).min(family_expires),
            })
            .await?;
        Ok(refresh_token)
    }

    /// Signs `claims` with the current key into a token response.
    pub(super) async fn respond(
        &self,
        claims: AccessClaims,
        refresh_token: Option<String>,
    ) -> Result<TokenResponse> {
        let keys = self.keys.current(&self.db, claims.iat).await?;
        Ok(TokenResponse {
            access_token: sign(&claims, &keys)?,
            token_type: "Bearer",
            expires_in: claims.exp - claims.iat,
            scope: claims.scope,
            refresh_token,
            device_token: None,
        })
    }
}
