//! Token signing keys: Ed25519 (`EdDSA`) key pairs, their JWKs (RFC 7517, RFC 8037) and the
//! key ring that signs with the newest key and publishes every key whose tokens may live.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use anyhow::Context as _;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::DecodePrivateKey as _;
use ed25519_dalek::pkcs8::EncodePrivateKey as _;
use jsonwebtoken::DecodingKey;
use rand::rngs::OsRng;
use serde::Serialize;
use sha2::{Digest as _, Sha256};

use crate::store::Db;
use crate::store::keys::{KeyRow, NewKey};

/// The JWS algorithm of every key here.
pub const ALGORITHM: &str = "EdDSA";

/// How often an instance rereads the keys from the database, so that a `keys rotate` run
/// elsewhere reaches every instance. Must stay below the verifiers' leeway (60 s), since a
/// retired key is published for the longest token lifetime plus that leeway.
pub const RELOAD_SECS: i64 = 10;

/// Grace added to the longest token lifetime before a retired key leaves the JWKS. It covers
/// [`ACTIVATION_DELAY_SECS`] plus [`RELOAD_SECS`], the longest a retired key may still sign.
pub const PUBLICATION_GRACE_SECS: i64 = 60;

/// A new key is published this long before it signs anything, so that a resource server that
/// fetched the JWKS just before the rotation (and refetches at most every 10 s) already knows
/// it when the first token signed with it arrives. Until then the previous key keeps signing.
pub const ACTIVATION_DELAY_SECS: i64 = 20;

/// Generates an Ed25519 key pair.
pub fn generate() -> anyhow::Result<NewKey> {
    let signing = SigningKey::generate(&mut OsRng);
    let der = signing
        .to_pkcs8_der()
        .map_err(|e| anyhow::anyhow!("pkcs8 encoding: {e}"))?;
    let public_x = URL_SAFE_NO_PAD.encode(signing.verifying_key().to_bytes());
    Ok(NewKey {
        kid: thumbprint(&public_x),
        private_pkcs8_b64: STANDARD.encode(der.as_bytes()),
        public_x,
    })
}

/// RFC 7638 thumbprint of an OKP key: SHA-256 over the required members in lexical order.
fn thumbprint(x: &str) -> String {
    let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

/// One public key as published in the JWKS. Only public members: no `d`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Jwk {
    /// Key type: `OKP`.
    pub kty: &'static str,
    /// Curve: `Ed25519`.
    pub crv: &'static str,
    /// The public key, base64url.
    pub x: String,
    /// Key id.
    pub kid: String,
    /// `EdDSA`.
    pub alg: &'static str,
    /// `sig`: these keys only sign.
    #[serde(rename = "use")]
    pub use_: &'static str,
}

/// A JWK Set (RFC 7517 §5).
#[derive(Debug, Clone, Serialize)]
pub struct Jwks {
    /// The keys.
    pub keys: Vec<Jwk>,
}

/// The key that signs new tokens.
pub struct ActiveKey {
    /// Its id, written in the JWT header.
    pub kid: String,
    /// The private key, parsed once: `jsonwebtoken::encode` would reparse the PKCS#8 document
    /// and derive the public key (a scalar multiplication) on every token.
    pub key: SigningKey,
}

/// Keys as loaded at one moment.
pub struct KeySnapshot {
    /// The key signing new tokens.
    pub active: ActiveKey,
    /// The published keys.
    pub jwks: Jwks,
    /// Verification keys of the published keys, by kid.
    pub verifying: HashMap<String, DecodingKey>,
    loaded_at: i64,
}

/// The keys of this instance, reread from the database every [`RELOAD_SECS`].
pub struct KeyRing {
    snapshot: RwLock<Arc<KeySnapshot>>,
    max_token_ttl: i64,
}

impl KeyRing {
    /// Loads the keys, generating and storing the first one on first start.
    pub async fn load(db: &Db, now: i64, max_token_ttl: i64) -> anyhow::Result<Self> {
        if !db.all_keys().await?.iter().any(|k| k.retired_at.is_none()) {
            let key = generate()?;
            db.insert_key(&key, ALGORITHM, now).await?;
            tracing::info!(kid = %key.kid, "generated the first token signing key");
        }
        let snapshot = build_snapshot(db.all_keys().await?, now, max_token_ttl)?;
        Ok(Self {
            snapshot: RwLock::new(Arc::new(snapshot)),
            max_token_ttl,
        })
    }

    /// The current keys, reloaded first when the last load is older than [`RELOAD_SECS`].
    pub async fn current(&self, db: &Db, now: i64) -> anyhow::Result<Arc<KeySnapshot>> {
        let snapshot = self.cached();
        if now - snapshot.loaded_at < RELOAD_SECS {
            return Ok(snapshot);
        }
        let fresh = Arc::new(build_snapshot(
            db.all_keys().await?,
            now,
            self.max_token_ttl,
        )?);
        if let Ok(mut guard) = self.snapshot.write() {
            *guard = fresh.clone();
        }
        Ok(fresh)
    }

    fn cached(&self) -> Arc<KeySnapshot> {
        match self.snapshot.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }
}

/// Whether a key is still published: active, or retired less than the longest token
/// lifetime (plus grace) ago, so every token it signed can still be verified.
pub fn is_published(row: &KeyRow, now: i64, max_token_ttl: i64) -> bool {
    row.retired_at
        .is_none_or(|retired| now < retired + max_token_ttl + PUBLICATION_GRACE_SECS)
}

fn build_snapshot(rows: Vec<KeyRow>, now: i64, max_token_ttl: i64) -> anyhow::Result<KeySnapshot> {
    // The newest key published for long enough signs (of two created in the same second,
    // the one not retired). Until any has been, the oldest one does: the first key at first
    // start, or the key a rotation just retired.
    let age_order = |r: &&KeyRow| (r.created_at, r.retired_at.is_none(), r.kid.clone());
    let active_row = rows
        .iter()
        .filter(|r| r.created_at + ACTIVATION_DELAY_SECS <= now)
        .max_by_key(age_order)
        .or_else(|| rows.iter().min_by_key(age_order))
        .context("no signing key: run `auth-server keys rotate`")?;
    let der = STANDARD
        .decode(&active_row.private_key)
        .context("stored private key is not base64")?;
    let active = ActiveKey {
        kid: active_row.kid.clone(),
        key: SigningKey::from_pkcs8_der(&der)
            .map_err(|e| anyhow::anyhow!("stored private key unreadable: {e}"))?,
    };
    let mut keys = Vec::new();
    let mut verifying = HashMap::new();
    for row in rows.iter().filter(|r| is_published(r, now, max_token_ttl)) {
        let decoding = DecodingKey::from_ed_components(&row.public_key)
            .with_context(|| format!("stored public key {} unreadable", row.kid))?;
        verifying.insert(row.kid.clone(), decoding);
        keys.push(Jwk {
            kty: "OKP",
            crv: "Ed25519",
            x: row.public_key.clone(),
            kid: row.kid.clone(),
            alg: ALGORITHM,
            use_: "sig",
        });
    }
    Ok(KeySnapshot {
        active,
        jwks: Jwks { keys },
        verifying,
        loaded_at: now,
    })
}
