//! The authorization server's shared state for the protocol: storage, clock, keys, the
//! hashing threads, throttles and lifetimes. The rules live beside it, one module per concern:
//! [`super::client_authentication`], [`super::grants`] (one module per grant),
//! [`super::revocation`] and [`super::introspection`]. No HTTP types here.

use std::sync::Arc;

use super::client_cache::ClientCache;
use super::device::{self, DeviceTokens};
use super::form_guard::{self, FormGuard};
use super::hashing::HashingPool;
use super::keys::{Jwks, KeyRing};
use super::secrets::{random_token, sha256_hex};
use super::throttle::{Throttle, ThrottlePolicy};
use super::tokens::{AccessClaims, verify};
use crate::config::Settings;
use crate::error::Result;
use crate::metrics::Metrics;
use crate::store::Db;
use service_kit::clock::Clock;

/// Unknown client ids counted per address at most (in memory; see
/// [`TokenService::authenticate_client`]).
const UNKNOWN_CLIENT_ADDRESSES: usize = 10_000;

/// How long an expired authorization code is kept, in seconds: a replay of a redeemed code
/// that comes a little late is still recognised, and revokes what the code issued.
pub const CODE_KEPT_AFTER_EXPIRY_SECS: i64 = 600;

/// Token lifetimes, in seconds.
#[derive(Debug, Clone, Copy)]
pub(super) struct Lifetimes {
    pub(super) user_access: i64,
    pub(super) client_access: i64,
    pub(super) refresh_idle: i64,
    pub(super) refresh_max: i64,
}

/// The authorization server's logic, shared by every request.
pub struct TokenService {
    pub(super) db: Db,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) keys: KeyRing,
    pub(super) hashing: HashingPool,
    pub(super) throttle: Throttle,
    pub(super) metrics: Metrics,
    pub(super) issuer: String,
    pub(super) audience: String,
    pub(super) lifetimes: Lifetimes,
    pub(super) user_throttle: ThrottlePolicy,
    pub(super) device_throttle: ThrottlePolicy,
    pub(super) client_throttle: ThrottlePolicy,
    /// Failed authentications of client ids that are not registered, per address: in
    /// memory and bounded, never a database row keyed by what a stranger typed.
    pub(super) unknown_clients: service_kit::address_throttle::AddressThrottle,
    pub(super) devices: DeviceTokens,
    /// Seconds after a rotation during which the rotated-out token is refused without
    /// revoking the sign-in (0: never).
    pub(super) reuse_grace: i64,
    /// Compared against when the client is unknown, so that both cases cost one hash.
    pub(super) dummy_secret_hash: String,
    pub(super) client_cache: ClientCache,
    /// The sign-in page's CSRF guard.
    pub(super) form_guard: FormGuard,
}

impl TokenService {
    /// Loads (or creates) the keys and starts the password-hashing threads.
    pub async fn new(
        db: Db,
        clock: Arc<dyn Clock>,
        settings: &Settings,
        issuer: String,
        metrics: Metrics,
    ) -> anyhow::Result<Self> {
        let keys = KeyRing::load(&db, clock.now(), settings.max_token_ttl()).await?;
        let concurrency = settings.serve.password_hash_concurrency.unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        });
        let device_key = db
            .server_secret(device::KEY_NAME, device::new_key, clock.now())
            .await?;
        let form_key = db
            .server_secret(form_guard::KEY_NAME, random_token, clock.now())
            .await?;
        let client_throttle = settings.client_throttle();
        Ok(Self {
            throttle: Throttle::new(db.clone()),
            db,
            clock,
            keys,
            hashing: HashingPool::new(
                concurrency,
                settings.serve.password_hash_queue,
                metrics.hashing(),
            )
            .await?,
            metrics,
            issuer,
            audience: settings.serve.audience.clone(),
            lifetimes: Lifetimes {
                user_access: settings.serve.user_token_ttl_secs,
                client_access: settings.serve.client_token_ttl_secs,
                refresh_idle: settings.serve.refresh_idle_ttl_secs,
                refresh_max: settings.serve.refresh_max_ttl_secs,
            },
            user_throttle: settings.user_throttle(),
            device_throttle: settings.device_throttle(),
            client_throttle,
            unknown_clients: service_kit::address_throttle::AddressThrottle::new(
                u32::try_from(client_throttle.max_failures).unwrap_or(u32::MAX),
                client_throttle.window_secs,
                UNKNOWN_CLIENT_ADDRESSES,
            ),
            devices: DeviceTokens::new(&device_key)?,
            reuse_grace: settings.serve.refresh_reuse_grace_secs,
            dummy_secret_hash: sha256_hex(&random_token()),
            client_cache: ClientCache::default(),
            form_guard: FormGuard::new(&form_key)?,
        })
    }

    /// The issuer identifier.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The database.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The published keys.
    pub async fn jwks(&self) -> Result<Jwks> {
        Ok(self
            .keys
            .current(&self.db, self.clock.now())
            .await?
            .jwks
            .clone())
    }

    /// Deletes throttling counters whose window has ended, and authorization codes
    /// [`CODE_KEPT_AFTER_EXPIRY_SECS`] after they expired (run on a timer).
    pub async fn purge_expired(&self) -> anyhow::Result<u64> {
        let window = self
            .user_throttle
            .window_secs
            .max(self.client_throttle.window_secs)
            .max(self.device_throttle.window_secs);
        let now = self.clock.now();
        let counters = self.throttle.purge(window, now).await?;
        let codes = self
            .db
            .purge_codes(now - CODE_KEPT_AFTER_EXPIRY_SECS)
            .await?;
        Ok(counters + codes)
    }

    /// The claims of `token` if it is one of our access tokens, valid at `now` (signature,
    /// issuer, audience, times); revocation is the caller's question.
    pub(super) async fn read_access_token(
        &self,
        token: &str,
        now: i64,
    ) -> Result<Option<AccessClaims>> {
        let keys = self.keys.current(&self.db, now).await?;
        Ok(verify(token, &keys, &self.issuer, &self.audience, now))
    }
}
