//! The `client_credentials` grant (RFC 6749 §4.4): a client's token for itself.

use super::TokenResponse;
use crate::error::Result;
use crate::oauth::policy::GrantPolicy;
use crate::oauth::scope::ScopeSet;
use crate::oauth::service::TokenService;
use crate::oauth::tokens::TokenKind;
use crate::store::clients::ClientRecord;

impl TokenService {
    /// RFC 6749 §4.4: the client's own token, `sub` = client id, no refresh token (§4.4.3).
    pub(super) async fn client_credentials(
        &self,
        client: &ClientRecord,
        row: &GrantPolicy,
        scope: Option<ScopeSet>,
    ) -> Result<TokenResponse> {
        let scope = row.grant_scope(scope)?;
        let now = self.clock.now();
        let claims = self.claims(
            TokenKind::Client,
            client.client_id.as_str(),
            client,
            scope,
            None,
            now,
        );
        self.respond(claims, None).await
    }
}
