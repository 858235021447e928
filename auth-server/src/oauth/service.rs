//! The grants (RFC 6749 §4.3, §4.4, §6), revocation (RFC 7009) and introspection (RFC 7662):
//! the rules, with storage and time passed in. No HTTP types here.

use std::net::IpAddr;
use std::sync::Arc;

use secrecy::{ExposeSecret as _, SecretString};
use serde::Serialize;
use service_kit::liveness::Liveness;

use super::client_auth::PresentedClient;
use super::client_cache::ClientCache;
use super::device::{self, DeviceTokens};
use super::error::{ErrorCode, OAuthError};
use super::form::FormParams;
use super::keys::{Jwks, KeyRing};
use super::password::{MAX_PASSWORD_BYTES, Passwords};
use super::policy::{GrantPolicy, GrantType};
use super::scope::ScopeSet;
use super::secrets::{random_b64, random_token, sha256_hex, verify_sha256};
use super::throttle::{SubjectKind, Throttle, ThrottlePolicy};
use super::tokens::{AccessClaims, MAX_TOKEN_BYTES, TokenKind, sign, verify};
use super::username::Username;
use crate::clock::Clock;
use crate::config::Settings;
use crate::error::{Error, Result};
use crate::metrics::Metrics;
use crate::store::Db;
use crate::store::clients::ClientRecord;
use crate::store::refresh::{NewFamily, Rotation};

/// The longest refresh token looked up; ours are 43 characters.
const MAX_REFRESH_TOKEN_BYTES: usize = 512;

/// Unknown client ids counted per address at most (in memory; see `authenticate_client`).
const UNKNOWN_CLIENT_ADDRESSES: usize = 10_000;

const BAD_CREDENTIALS: &str = "the username or password is incorrect";
const BAD_REFRESH: &str = "the refresh token is invalid, expired or revoked";

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
    /// A new refresh token (password and refresh grants only, §4.4.3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// A device token for the browser the person signed in from (password grant only): an
    /// extension parameter (§5.1), see [`super::device`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_token: Option<String>,
}

/// An introspection response (RFC 7662 §2.2). An inactive token is exactly `{"active":false}`.
#[derive(Debug, Default, Serialize)]
pub struct Introspection {
    /// Whether the token is active.
    pub active: bool,
    /// Granted scope.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// The client it was issued to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The resource owner, for user tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// `Bearer` for access tokens, `refresh_token` for refresh tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<&'static str>,
    /// Expiry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    /// Issue time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    /// Not before.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    /// Subject.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// Audience.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    /// Issuer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// Token id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    /// Whether the token is a client's or a user's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_kind: Option<TokenKind>,
}

/// Token lifetimes, in seconds.
#[derive(Debug, Clone, Copy)]
struct Lifetimes {
    user_access: i64,
    client_access: i64,
    refresh_idle: i64,
    refresh_max: i64,
}

/// The authorization server's logic, shared by every request.
pub struct TokenService {
    db: Db,
    clock: Arc<dyn Clock>,
    keys: KeyRing,
    passwords: Passwords,
    throttle: Throttle,
    metrics: Metrics,
    issuer: String,
    audience: String,
    lifetimes: Lifetimes,
    user_throttle: ThrottlePolicy,
    device_throttle: ThrottlePolicy,
    client_throttle: ThrottlePolicy,
    /// Failed authentications of client ids that are not registered, per address: in
    /// memory and bounded, never a database row keyed by what a stranger typed.
    unknown_clients: service_kit::address_throttle::AddressThrottle,
    devices: DeviceTokens,
    /// Seconds after a rotation during which the rotated-out token is refused without
    /// revoking the sign-in (0: never).
    reuse_grace: i64,
    /// Compared against when the client is unknown, so that both cases cost one hash.
    dummy_secret_hash: String,
    client_cache: ClientCache,
}

impl TokenService {
    /// Loads (or creates) the keys and sets up the password hasher.
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
        let client_throttle = settings.client_throttle();
        Ok(Self {
            throttle: Throttle::new(db.clone()),
            db,
            clock,
            keys,
            passwords: Passwords::new(
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

    /// Deletes throttling counters whose window has ended (run on a timer).
    pub async fn purge_expired(&self) -> anyhow::Result<u64> {
        let window = self
            .user_throttle
            .window_secs
            .max(self.client_throttle.window_secs)
            .max(self.device_throttle.window_secs);
        self.throttle.purge(window, self.clock.now()).await
    }

    /// The token endpoint, after client authentication. `requester` tells whether the client
    /// is still connected, so that a password hash queued for it is skipped once it has gone.
    pub async fn token(
        &self,
        client: &ClientRecord,
        params: &FormParams,
        requester: Option<&Liveness>,
    ) -> Result<TokenResponse> {
        let grant: GrantType = params
            .require("grant_type", "the grant_type parameter is missing")?
            .parse()?;
        let row = client.policy.row(grant)?;
        let response = match grant {
            GrantType::ClientCredentials => self.client_credentials(client, row, params).await?,
            GrantType::Password => self.password(client, row, params, requester).await?,
            GrantType::RefreshToken => self.refresh(client, row, params).await?,
        };
        self.metrics
            .token_issued(grant.as_str(), client.client_id.as_str());
        Ok(response)
    }

    /// RFC 6749 §4.4: the client's own token, `sub` = client id, no refresh token (§4.4.3).
    async fn client_credentials(
        &self,
        client: &ClientRecord,
        row: &GrantPolicy,
        params: &FormParams,
    ) -> Result<TokenResponse> {
        let scope = row.grant_scope(requested_scope(params)?)?;
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

    /// RFC 6749 §4.3: the resource owner's password, checked with Argon2id under throttling.
    ///
    /// Which lock applies: an attempt that carries a valid device token for this user and
    /// client (a browser the person signed in from before, see [`super::device`]) is counted
    /// against that device's own budget and ignores the username's lock, which strangers may
    /// have caused; any other attempt is counted against the username (RFC 6749 §4.3.2: the
    /// server MUST protect the endpoint against brute force).
    async fn password(
        &self,
        client: &ClientRecord,
        row: &GrantPolicy,
        params: &FormParams,
        requester: Option<&Liveness>,
    ) -> Result<TokenResponse> {
        let raw_username = params.require("username", "the username parameter is missing")?;
        let raw_password = params.require("password", "the password parameter is missing")?;
        if raw_password.len() > MAX_PASSWORD_BYTES {
            return Err(OAuthError::invalid_request("the password is too long").into());
        }
        let scope = row.grant_scope(requested_scope(params)?)?;
        // A place for the hash first: a sign-in refused for want of one has changed nothing
        // (no throttle row written or counted), so a flood beyond capacity costs no writes.
        let admission = self.passwords.admit()?;
        let password = SecretString::from(raw_password);
        let Ok(username) = Username::parse_login(raw_username) else {
            // Cannot be a user; still cost one hash, like any unknown user.
            self.passwords
                .verify(admission, &password, None, requester)
                .await?;
            tracing::warn!(username_hash = %self.devices.pseudonym(raw_username), "sign-in failed: no such user");
            return Err(OAuthError::invalid_grant(BAD_CREDENTIALS).into());
        };
        let now = self.clock.now();
        let device_id = params.get("device_token").and_then(|token| {
            self.devices
                .verify(token, username.as_str(), client.client_id.as_str(), now)
        });
        let (kind, subject, policy) = match &device_id {
            Some(id) => (SubjectKind::Device, id.as_str(), self.device_throttle),
            None => (SubjectKind::User, username.as_str(), self.user_throttle),
        };
        let attempt = match self.throttle.begin(kind, subject, policy, now).await? {
            Ok(attempt) => attempt,
            Err(retry_after) => {
                self.metrics.throttled(kind.as_str());
                tracing::warn!(username_hash = %self.devices.pseudonym(username.as_str()), kind = kind.as_str(), "sign-in throttled");
                let description = match kind {
                    SubjectKind::Device => {
                        "too many failed sign-in attempts from this device; try again later"
                    }
                    _ => "too many failed sign-in attempts for this account; try again later",
                };
                return Err(OAuthError::throttled(
                    ErrorCode::InvalidGrant,
                    description,
                    retry_after,
                )
                .into());
            }
        };
        let checked = async {
            let user = self.db.user(&username).await?;
            let verified = self
                .passwords
                .verify(
                    admission,
                    &password,
                    user.as_ref().map(|u| u.password_hash.as_str()),
                    requester,
                )
                .await?;
            anyhow::Ok((user, verified))
        }
        .await;
        let (user, verified) = match checked {
            Ok(found) => found,
            Err(e) => {
                // Nothing was checked (the database failed, or the client hung up and the
                // hash was skipped): the attempt counts for nothing.
                self.throttle.abandoned(attempt).await?;
                return Err(e.into());
            }
        };
        let user = match user {
            Some(u) if verified && !u.disabled => u,
            other => {
                self.throttle.failed(attempt);
                // A username that exists is logged as such; anything else only as a keyed hash,
                // since it may be a password typed into the wrong box.
                match &other {
                    Some(u) => {
                        tracing::warn!(username = ?u.username.as_str(), known_device = device_id.is_some(), "sign-in failed: wrong password or disabled account")
                    }
                    None => {
                        tracing::warn!(username_hash = %self.devices.pseudonym(username.as_str()), "sign-in failed: no such user")
                    }
                }
                return Err(OAuthError::invalid_grant(BAD_CREDENTIALS).into());
            }
        };
        self.throttle.succeeded(attempt).await?;
        tracing::info!(username = ?user.username.as_str(), client_id = ?client.client_id.as_str(), known_device = device_id.is_some(), "user signed in");

        let family_id = random_b64(16);
        let refresh_token = random_token();
        let family_expires = now + self.lifetimes.refresh_max;
        self.db
            .create_family(&NewFamily {
                family_id: &family_id,
                client_id: client.client_id.as_str(),
                username: user.username.as_str(),
                scope: &scope.to_string(),
                created_at: now,
                expires_at: family_expires,
                token_hash: &sha256_hex(&refresh_token),
                token_expires_at: (now + self.lifetimes.refresh_idle).min(family_expires),
            })
            .await?;
        let device_token = self.devices.issue(
            device_id.as_deref(),
            user.username.as_str(),
            client.client_id.as_str(),
            now,
        )?;
        let claims = self.claims(
            TokenKind::User,
            user.username.as_str(),
            client,
            scope,
            Some(family_id),
            now,
        );
        let mut response = self.respond(claims, Some(refresh_token)).await?;
        response.device_token = Some(device_token);
        Ok(response)
    }

    /// RFC 6749 §6 with rotation and reuse detection (RFC 9700 §4.14.2).
    ///
    /// Concurrency policy, strict one-winner: when the same refresh token arrives several
    /// times at once, a compare-and-set on the family's generation lets exactly one request
    /// rotate it; the others get `invalid_grant` and the family lives on with the winner's
    /// new token. A duplicate that arrives within the reuse grace (`--refresh-reuse-grace-secs`,
    /// default 2 s) after the rotation it lost is treated the same way; any later presentation
    /// of a rotated-out token, or any at all with a grace of 0, is reuse, and revokes the
    /// whole family.
    async fn refresh(
        &self,
        client: &ClientRecord,
        row: &GrantPolicy,
        params: &FormParams,
    ) -> Result<TokenResponse> {
        let presented =
            params.require("refresh_token", "the refresh_token parameter is missing")?;
        let requested = requested_scope(params)?;
        if presented.len() > MAX_REFRESH_TOKEN_BYTES {
            return Err(OAuthError::invalid_grant(BAD_REFRESH).into());
        }
        let now = self.clock.now();
        let Some(found) = self.db.find_refresh_token(&sha256_hex(presented)).await? else {
            return Err(OAuthError::invalid_grant(BAD_REFRESH).into());
        };
        // §10.4: the token is bound to the client it was issued to.
        if found.client_id != client.client_id.as_str()
            || found.revoked
            || now >= found.family_expires_at
        {
            return Err(OAuthError::invalid_grant(BAD_REFRESH).into());
        }
        if found.token_generation < found.family_generation {
            let rotated_at = if found.token_generation + 1 == found.family_generation {
                self.db
                    .rotated_at(&found.family_id, found.family_generation)
                    .await?
            } else {
                None
            };
            if within_reuse_grace(rotated_at, now, self.reuse_grace) {
                // The loser of a race with the request that rotated this very token.
                return Err(OAuthError::invalid_grant(BAD_REFRESH).into());
            }
            self.db
                .revoke_family(&found.family_id, now, "reuse_detected")
                .await?;
            self.metrics.refresh_reuse();
            tracing::warn!(username = ?found.username, client_id = ?found.client_id, "refresh token reuse detected; sign-in revoked");
            return Err(OAuthError::invalid_grant(BAD_REFRESH).into());
        }
        if now >= found.token_expires_at {
            return Err(OAuthError::invalid_grant(BAD_REFRESH).into());
        }
        let username = Username::parse(&found.username)
            .map_err(|e| anyhow::anyhow!("stored username: {e}"))?;
        if !found.user_active {
            self.db
                .revoke_family(&found.family_id, now, "user_disabled")
                .await?;
            return Err(OAuthError::invalid_grant(BAD_REFRESH).into());
        }
        // §6: narrowing only; the new refresh token keeps the family's original scope.
        let family_scope =
            ScopeSet::parse(&found.scope).map_err(|e| anyhow::anyhow!("stored scope: {e}"))?;
        let scope = requested.unwrap_or(family_scope);
        if !scope.is_subset_of(family_scope) || !scope.is_subset_of(row.allowed()) {
            return Err(OAuthError::invalid_scope(
                "the requested scope exceeds the scope originally granted",
            )
            .into());
        }
        let refresh_token = random_token();
        let rotation = self
            .db
            .rotate_refresh_token(
                &found.family_id,
                found.token_generation,
                &sha256_hex(&refresh_token),
                now,
                (now + self.lifetimes.refresh_idle).min(found.family_expires_at),
            )
            .await?;
        if rotation == Rotation::LostRace {
            return Err(OAuthError::invalid_grant(BAD_REFRESH).into());
        }
        let claims = self.claims(
            TokenKind::User,
            username.as_str(),
            client,
            scope,
            Some(found.family_id),
            now,
        );
        self.respond(claims, Some(refresh_token)).await
    }

    fn claims(
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

    async fn respond(
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

    /// RFC 7009: revokes a refresh token (its whole sign-in) or an access token (until it
    /// expires). Unknown tokens, and tokens of other clients, are answered the same way and
    /// left untouched, so the endpoint is no oracle (§2.1, §2.2). `token_type_hint` only
    /// orders the search, which covers both kinds anyway.
    pub async fn revoke(&self, client: &ClientRecord, params: &FormParams) -> Result<()> {
        let token = params.require("token", "the token parameter is missing")?;
        let now = self.clock.now();
        if token.len() > MAX_TOKEN_BYTES {
            return Ok(());
        }
        if let Some(found) = self.db.find_refresh_token(&sha256_hex(token)).await? {
            if found.client_id == client.client_id.as_str() {
                self.db
                    .revoke_family(&found.family_id, now, "revoked")
                    .await?;
                tracing::info!(client_id = ?client.client_id.as_str(), "refresh token revoked");
            }
            return Ok(());
        }
        if let Some(claims) = self.read_access_token(token, now).await?
            && claims.client_id == client.client_id.as_str()
        {
            self.db
                .deny_access_token(&claims.jti, claims.exp, now)
                .await?;
            tracing::info!(client_id = ?client.client_id.as_str(), "access token revoked");
        }
        Ok(())
    }

    /// RFC 7662: what is known of a token. A client may introspect only tokens issued to it;
    /// anything else is `{"active":false}` with no reason given (§2.2).
    pub async fn introspect(
        &self,
        client: &ClientRecord,
        params: &FormParams,
    ) -> Result<Introspection> {
        let token = params.require("token", "the token parameter is missing")?;
        let now = self.clock.now();
        if token.len() > MAX_TOKEN_BYTES {
            return Ok(Introspection::default());
        }
        let mine = |client_id: &str| client_id == client.client_id.as_str();
        if let Some(found) = self.db.find_refresh_token(&sha256_hex(token)).await? {
            let exp = found.token_expires_at.min(found.family_expires_at);
            let active = mine(&found.client_id)
                && !found.revoked
                && found.token_generation == found.family_generation
                && now < exp;
            if !active {
                return Ok(Introspection::default());
            }
            return Ok(Introspection {
                active: true,
                scope: Some(found.scope),
                client_id: Some(found.client_id),
                sub: Some(found.username.clone()),
                username: Some(found.username),
                token_type: Some("refresh_token"),
                exp: Some(exp),
                iat: Some(found.token_issued_at),
                token_kind: Some(TokenKind::User),
                ..Introspection::default()
            });
        }
        let Some(claims) = self.read_access_token(token, now).await? else {
            return Ok(Introspection::default());
        };
        if !mine(&claims.client_id) || self.db.access_token_denied(&claims.jti).await? {
            return Ok(Introspection::default());
        }
        if let Some(sid) = &claims.sid {
            // Revoking the sign-in invalidates its access tokens too (RFC 7009 §2.1).
            if !self.db.family_is_live(sid, now).await? {
                return Ok(Introspection::default());
            }
        }
        Ok(Introspection {
            active: true,
            username: (claims.token_kind == TokenKind::User).then(|| claims.sub.clone()),
            scope: Some(claims.scope),
            client_id: Some(claims.client_id),
            token_type: Some("Bearer"),
            exp: Some(claims.exp),
            iat: Some(claims.iat),
            nbf: Some(claims.nbf),
            sub: Some(claims.sub),
            aud: Some(claims.aud),
            iss: Some(claims.iss),
            jti: Some(claims.jti),
            token_kind: Some(claims.token_kind),
        })
    }

    async fn read_access_token(&self, token: &str, now: i64) -> Result<Option<AccessClaims>> {
        let keys = self.keys.current(&self.db, now).await?;
        Ok(verify(token, &keys, &self.issuer, &self.audience, now))
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

/// Whether a rotated-out refresh token presented at `now` is the loser of a race with the
/// rotation made at `rotated_at` (refused, the sign-in kept) rather than reuse (the sign-in
/// revoked): only within `grace` seconds of the rotation that replaced it, never with a grace
/// of 0. `rotated_at` is `None` when the token is older than the one rotated last.
pub fn within_reuse_grace(rotated_at: Option<i64>, now: i64, grace: i64) -> bool {
    grace > 0 && rotated_at.is_some_and(|at| now - at <= grace)
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
mod tests {
    use super::within_reuse_grace;

    #[test]
    fn the_reuse_grace_forgives_only_the_token_rotated_last_and_only_briefly() {
        assert!(within_reuse_grace(Some(100), 100, 2));
        assert!(within_reuse_grace(Some(100), 102, 2));
        assert!(!within_reuse_grace(Some(100), 103, 2));
        assert!(!within_reuse_grace(None, 100, 2));
        // 0 is strict: any presentation of a rotated-out token is reuse.
        assert!(!within_reuse_grace(Some(100), 100, 0));
        assert!(within_reuse_grace(Some(100), 130, 30));
    }
}
