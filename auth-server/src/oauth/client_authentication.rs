//! Checking the credentials a client presented (RFC 6749 §2.3.1), with throttling of wrong
//! secrets and a short-lived cache of right ones. Reading them from the request is
//! [`super::client_auth`].

use std::net::IpAddr;

use secrecy::ExposeSecret as _;

use super::client_auth::PresentedClient;
use super::error::{ErrorCode, OAuthError};
use super::secrets::verify_sha256;
use super::service::TokenService;
use super::throttle::{SubjectKind, Throttle};
use crate::error::{Error, Result};
use crate::store::clients::ClientRecord;

impl TokenService {
    /// Authenticates a client (RFC 6749 §2.3.1). Unknown client, missing secret and wrong
    /// secret all give the same `invalid_client` after the same secret comparison.
    ///
    /// Throttling (RFC 6749 §2.3.1: protect against brute force) never refuses the right
    /// secret: a client's secret has 256 bits, so guessing it is hopeless anyway, and refusing
    /// the real client because strangers guessed wrong from the same address (every visitor
    /// behind one load balancer) would let anyone take the website down. So the secret is
    /// checked first; only wrong secrets are counted (per registered client id and address,
    /// in the database, shared by instances) and, past the limit, answered 429 with
    /// `Retry-After`, with a metric per client to alert on. Client ids that are not registered
    /// are counted in memory per address, with a bound, and never written to the database.
    pub async fn authenticate_client(
        &self,
        presented: PresentedClient,
        peer: Option<IpAddr>,
    ) -> Result<ClientRecord> {
        let now = self.clock.now();
        if let Some(secret) = &presented.secret
            && let Some(client) =
                self.client_cache
                    .get(&presented.client_id, peer, secret.expose_secret(), now)
        {
            return Ok(client);
        }
        let address = peer.map(service_kit::address_throttle::address_key);
        let subject = format!(
            "{} {}",
            presented.client_id,
            address.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string())
        );
        let policy = self.client_throttle;
        let (record, counter) = self
            .db
            .client_for_authentication(&presented.client_id, &subject, policy.floor(now))
            .await?;
        let stored = record
            .as_ref()
            .map_or(self.dummy_secret_hash.as_str(), |c| c.secret_hash.as_str());
        let secret_ok = presented
            .secret
            .as_ref()
            .is_some_and(|s| verify_sha256(s.expose_secret(), stored));
        let Some(client) = record else {
            self.metrics.client_auth_failed(None);
            tracing::warn!(client_id = ?presented.client_id.as_str(), peer = ?peer, "client authentication failed: no such client");
            if let Some(peer) = peer
                && let Err(retry_after) = self.unknown_clients.begin(peer, now)
            {
                self.metrics.throttled("client");
                return Err(client_throttled(retry_after));
            }
            return Err(OAuthError::invalid_client().into());
        };
        if secret_ok {
            if Throttle::check(counter, policy, now).is_err() {
                tracing::info!(client_id = ?client.client_id.as_str(), peer = ?peer, "the right client secret was accepted while wrong ones from this address are throttled");
            }
            self.client_cache.put(peer, &client, now);
            return Ok(client);
        }
        self.client_cache.forget(&presented.client_id, peer);
        self.metrics
            .client_auth_failed(Some(client.client_id.as_str()));
        tracing::warn!(client_id = ?client.client_id.as_str(), peer = ?peer, "client authentication failed: wrong or missing secret");
        if let Err(retry_after) = Throttle::check(counter, policy, now) {
            // Already over the limit: answered without another write.
            self.metrics.throttled("client");
            return Err(client_throttled(retry_after));
        }
        self.throttle
            .record_failure(SubjectKind::Client, &subject, policy, now)
            .await?;
        Err(OAuthError::invalid_client().into())
    }
}

/// A 429 `invalid_client` with `Retry-After`: wrong client secrets from one address.
fn client_throttled(retry_after: i64) -> Error {
    OAuthError::throttled(
        ErrorCode::InvalidClient,
        "too many failed client authentications; retry later",
        retry_after,
    )
    .into()
}
