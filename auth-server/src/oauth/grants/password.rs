//! The `password` grant (RFC 6749 §4.3): a person signs in with a username and password,
//! checked by [`TokenService::check_password`] (Argon2id on the hashing threads, under
//! throttling), and gets an access token, a refresh token (a new sign-in: a refresh-token
//! family) and a device token.

use secrecy::SecretString;
use service_kit::liveness::Liveness;

use super::TokenResponse;
use crate::error::Result;
use crate::oauth::policy::GrantPolicy;
use crate::oauth::scope::ScopeSet;
use crate::oauth::secrets::random_b64;
use crate::oauth::service::TokenService;
use crate::oauth::tokens::TokenKind;
use crate::store::clients::ClientRecord;

impl TokenService {
    /// RFC 6749 §4.3: the resource owner's password, checked with Argon2id under throttling
    /// (see [`TokenService::check_password`] for which lock applies).
    #[allow(
        clippy::too_many_arguments,
        reason = "a grant receives exactly its parameters, one argument each"
    )]
    pub(super) async fn password(
        &self,
        client: &ClientRecord,
        row: &GrantPolicy,
        raw_username: &str,
        password: &SecretString,
        scope: Option<ScopeSet>,
        device_token: Option<&str>,
        requester: Option<&Liveness>,
    ) -> Result<TokenResponse> {
        let scope = row.grant_scope(scope)?;
        let signed = self
            .check_password(client, raw_username, password, device_token, requester)
            .await?;
        let now = self.clock.now();
        let family_id = random_b64(16);
        let refresh_token = self
            .new_family(client, &signed.user.username, scope, &family_id, now)
            .await?;
        let device_token = self.device_token(&signed, client, now)?;
        let claims = self.claims(
            TokenKind::User,
            signed.user.username.as_str(),
            client,
            scope,
            Some(family_id),
            now,
        );
        let mut response = self.respond(claims, Some(refresh_token)).await?;
        response.device_token = Some(device_token);
        Ok(response)
    }
}
