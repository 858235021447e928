//! A one-second memory of successful client authentications, so that a busy client (the web
//! app fetching its own token, the HR job) does not cost a database round trip per request.
//!
//! Only successes are remembered, keyed by client id *and* address: failures always reach the
//! database and its throttling counter, and a guesser from another address never benefits
//! from the real client's entry. An entry answers only for the exact secret it was stored
//! with (compared in constant time). The price: a secret rotated or a client deleted through
//! another process stops working here within one second, not at once.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::RwLock;

use super::client_auth::ClientId;
use super::secrets::verify_sha256;
use crate::store::clients::ClientRecord;

/// Entries beyond this are dropped wholesale; only successful authentications create them.
const MAX_ENTRIES: usize = 10_000;

/// How long an entry answers, in seconds of the injected clock: the second it was stored in.
const TTL_SECS: i64 = 1;

/// Which client, from which address.
type Key = (ClientId, Option<IpAddr>);

/// Successful client authentications of the last second: when, and the record.
#[derive(Debug, Default)]
pub struct ClientCache {
    entries: RwLock<HashMap<Key, (i64, ClientRecord)>>,
}

impl ClientCache {
    /// The client, if `secret` authenticated it from `peer` within the last second.
    pub fn get(
        &self,
        id: &ClientId,
        peer: Option<IpAddr>,
        secret: &str,
        now: i64,
    ) -> Option<ClientRecord> {
        let entries = self.entries.read().ok()?;
        let (stored_at, record) = entries.get(&(id.clone(), peer))?;
        (now - stored_at < TTL_SECS && verify_sha256(secret, &record.secret_hash))
            .then(|| record.clone())
    }

    /// Remembers a successful authentication.
    pub fn put(&self, peer: Option<IpAddr>, record: &ClientRecord, now: i64) {
        if let Ok(mut entries) = self.entries.write() {
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
            entries.insert((record.client_id.clone(), peer), (now, record.clone()));
        }
    }

    /// Forgets `id` from `peer` (after a failure from there).
    pub fn forget(&self, id: &ClientId, peer: Option<IpAddr>) {
        if let Ok(mut entries) = self.entries.write() {
            entries.remove(&(id.clone(), peer));
        }
    }
}
