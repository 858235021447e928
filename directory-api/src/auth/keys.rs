//! The authorization server's signing keys, found through its RFC 8414 metadata and cached.
//!
//! - An unknown `kid` triggers a refetch, at most once per `min_refetch` however many
//!   requests carry it (one fetch at a time; the others wait for its result).
//! - Keys older than `max_age` are refreshed on the next request, at the same bounded rate.
//! - When the auth server cannot be reached, the cached keys keep working.
//! - Keys are taken only from that JWKS: `jku`, `x5u` and `jwk` headers are never followed.
//! - The metadata must name the configured issuer exactly, and its `jwks_uri` must be on the
//!   issuer's own origin (scheme, host and port); otherwise no keys are loaded from it.
//!
//! Both intervals are measured on the service's injected clock (the one in its state), whole
//! seconds, so tests move time instead of sleeping. A clock that goes back (a corrected system
//! clock) counts as past the interval: one fetch is then allowed, never a wait for the clock to
//! catch up. The decisions are the pure [`may_fetch`] and [`is_fresh`].

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use jsonwebtoken::DecodingKey;

use service_kit::clock::Clock;

/// Where and how often to fetch keys.
#[derive(Debug, Clone)]
pub struct KeySource {
    /// The issuer; the metadata is at `{issuer}/.well-known/oauth-authorization-server`.
    pub issuer: String,
    /// Refetch at most this often.
    pub min_refetch: Duration,
    /// Refresh keys older than this.
    pub max_age: Duration,
}

struct Loaded {
    keys: HashMap<String, DecodingKey>,
    /// When they were fetched (Unix seconds, on the injected clock).
    at: i64,
}

/// Whether a fetch may start at `now`, the last one having been tried at `last_attempt` (Unix
/// seconds): none was tried, or at least `min_refetch` has passed, or the clock went back.
pub fn may_fetch(last_attempt: Option<i64>, now: i64, min_refetch: Duration) -> bool {
    last_attempt.is_none_or(|at| !(0..secs(min_refetch)).contains(&now.saturating_sub(at)))
}

/// Whether keys fetched at `fetched_at` are still fresh at `now` (less than `max_age` old; a
/// clock that went back makes them stale, so they are refreshed at the bounded rate).
pub fn is_fresh(fetched_at: i64, now: i64, max_age: Duration) -> bool {
    (0..secs(max_age)).contains(&now.saturating_sub(fetched_at))
}

fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

/// The cached verification keys, by `kid`.
pub struct KeyCache {
    source: KeySource,
    http: reqwest::Client,
    loaded: RwLock<Option<Arc<Loaded>>>,
    /// Serialises fetches and remembers when the last one was tried (Unix seconds).
    last_attempt: tokio::sync::Mutex<Option<i64>>,
    clock: Arc<dyn Clock>,
}

/// Why no key could be had.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The token names a key the issuer does not publish.
    #[error("unknown key")]
    Unknown,
    /// No keys were ever fetched (the auth server has been unreachable since start).
    #[error("signing keys unavailable: {0:#}")]
    Unavailable(anyhow::Error),
}

impl KeyCache {
    /// A cache over `source`, fetching with `http` (which has timeouts and follows no
    /// redirects), timing its intervals on `clock` (the service's).
    pub fn new(source: KeySource, http: reqwest::Client, clock: Arc<dyn Clock>) -> Self {
        Self {
            source,
            http,
            loaded: RwLock::new(None),
            last_attempt: tokio::sync::Mutex::new(None),
            clock,
        }
    }

    /// Whether keys have been fetched (for readiness).
    pub fn is_loaded(&self) -> bool {
        self.snapshot().is_some()
    }

    /// The key `kid`, fetching or refreshing as the rules above allow.
    pub async fn key(&self, kid: &str) -> Result<DecodingKey, KeyError> {
        let snapshot = self.snapshot();
        if let Some(loaded) = &snapshot {
            let fresh = is_fresh(loaded.at, self.clock.now(), self.source.max_age);
            if let Some(key) = loaded.keys.get(kid).filter(|_| fresh) {
                return Ok(key.clone());
            }
        }
        let refreshed = self.refresh().await;
        let current = self.snapshot();
        match (current, refreshed) {
            (Some(loaded), _) => loaded.keys.get(kid).cloned().ok_or(KeyError::Unknown),
            (None, Err(e)) => Err(KeyError::Unavailable(e)),
            // No keys at all, and the last attempt (within the refetch interval) failed:
            // the token may be perfectly good, so this is not `invalid_token`.
            (None, Ok(())) => Err(KeyError::Unavailable(anyhow::anyhow!(
                "no signing keys could be fetched from the authorization server yet"
            ))),
        }
    }

    /// Fetches now unless a fetch was tried within `min_refetch` (then the result of that one
    /// stands). Errors are returned, and the cached keys kept.
    pub async fn refresh(&self) -> anyhow::Result<()> {
        let mut last = self.last_attempt.lock().await;
        let now = self.clock.now();
        if !may_fetch(*last, now, self.source.min_refetch) {
            return Ok(());
        }
        *last = Some(now);
        match self.fetch().await {
            Ok(keys) => {
                tracing::info!(
                    keys = keys.len(),
                    "fetched the authorization server's signing keys"
                );
                if let Ok(mut guard) = self.loaded.write() {
                    *guard = Some(Arc::new(Loaded {
                        keys,
                        at: self.clock.now(),
                    }));
                }
                Ok(())
            }
            Err(e) => {
                tracing::warn!(
                    error = format!("{e:#}"),
                    "cannot fetch signing keys; keeping the cached ones"
                );
                Err(e)
            }
        }
    }

    fn snapshot(&self) -> Option<Arc<Loaded>> {
        match self.loaded.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    async fn fetch(&self) -> anyhow::Result<HashMap<String, DecodingKey>> {
        super::discovery::fetch_keys(&self.http, &self.source.issuer).await
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read as _, Write as _};
    use std::net::TcpListener;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use service_kit::clock::ManualClock;

    use super::*;

    const MIN_REFETCH: Duration = Duration::from_secs(10);
    const MAX_AGE: Duration = Duration::from_secs(300);
    const T0: i64 = 1_700_000_000;

    #[test]
    fn a_fetch_waits_for_the_interval_since_the_last_attempt() {
        assert!(may_fetch(None, T0, MIN_REFETCH));
        assert!(!may_fetch(Some(T0), T0, MIN_REFETCH));
        assert!(!may_fetch(Some(T0), T0 + 9, MIN_REFETCH));
        assert!(may_fetch(Some(T0), T0 + 10, MIN_REFETCH));
        assert!(may_fetch(Some(T0), T0 + 1_000, MIN_REFETCH));
    }

    #[test]
    fn a_clock_that_went_back_allows_a_fetch_instead_of_waiting() {
        assert!(may_fetch(Some(T0), T0 - 1, MIN_REFETCH));
        assert!(may_fetch(Some(T0), T0 - 3_600, MIN_REFETCH));
        assert!(may_fetch(Some(i64::MAX), i64::MIN, MIN_REFETCH));
    }

    #[test]
    fn keys_are_fresh_until_max_age() {
        assert!(is_fresh(T0, T0, MAX_AGE));
        assert!(is_fresh(T0, T0 + 299, MAX_AGE));
        assert!(!is_fresh(T0, T0 + 300, MAX_AGE));
        assert!(!is_fresh(T0, T0 - 1, MAX_AGE), "a clock that went back");
    }

    /// An issuer on 127.0.0.1 serving its metadata and a JWKS of one key, `k1`, counting the
    /// JWKS requests (plain HTTP/1.1, one request per connection).
    fn fake_issuer() -> (String, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let issuer = format!("http://{}", listener.local_addr().unwrap());
        let fetches = Arc::new(AtomicUsize::new(0));
        let (base, counted) = (issuer.clone(), fetches.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut request = [0u8; 4096];
                let n = stream.read(&mut request).unwrap_or(0);
                let request = String::from_utf8_lossy(&request[..n]);
                let body = if request.starts_with("GET /jwks.json ") {
                    counted.fetch_add(1, Ordering::SeqCst);
                    let x = "A".repeat(43);
                    format!(
                        r#"{{"keys":[{{"kty":"OKP","crv":"Ed25519","x":"{x}","kid":"k1","alg":"EdDSA","use":"sig"}}]}}"#
                    )
                } else {
                    format!(r#"{{"issuer":"{base}","jwks_uri":"{base}/jwks.json"}}"#)
                };
                drop(write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                ));
            }
        });
        (issuer, fetches)
    }

    fn cache(issuer: &str, clock: &Arc<ManualClock>) -> KeyCache {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        KeyCache::new(
            KeySource {
                issuer: issuer.to_owned(),
                min_refetch: MIN_REFETCH,
                max_age: MAX_AGE,
            },
            http,
            clock.clone(),
        )
    }

    #[tokio::test]
    async fn unknown_kids_refetch_at_most_once_per_interval_on_the_injected_clock() {
        let (issuer, fetches) = fake_issuer();
        let clock = Arc::new(ManualClock::at(T0));
        let keys = cache(&issuer, &clock);
        keys.refresh().await.unwrap();
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
        assert!(keys.key("k1").await.is_ok());
        // Within the interval, however many unknown kids: no fetch.
        for kid in ["u1", "u2", "u3"] {
            assert!(matches!(keys.key(kid).await, Err(KeyError::Unknown)));
        }
        clock.advance(9);
        assert!(matches!(keys.key("u4").await, Err(KeyError::Unknown)));
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
        // The interval has passed on the clock: the next unknown kid fetches, once.
        clock.advance(1);
        assert!(matches!(keys.key("u5").await, Err(KeyError::Unknown)));
        assert!(matches!(keys.key("u6").await, Err(KeyError::Unknown)));
        assert_eq!(fetches.load(Ordering::SeqCst), 2);
        // A known kid never fetches while its keys are fresh.
        assert!(keys.key("k1").await.is_ok());
        assert_eq!(fetches.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn keys_older_than_max_age_are_refreshed_on_the_next_request() {
        let (issuer, fetches) = fake_issuer();
        let clock = Arc::new(ManualClock::at(T0));
        let keys = cache(&issuer, &clock);
        keys.refresh().await.unwrap();
        clock.advance(299);
        assert!(keys.key("k1").await.is_ok());
        assert_eq!(fetches.load(Ordering::SeqCst), 1, "fresh: no fetch");
        clock.advance(1);
        assert!(keys.key("k1").await.is_ok());
        assert_eq!(fetches.load(Ordering::SeqCst), 2, "stale: refreshed");
    }

    #[tokio::test]
    async fn an_unreachable_issuer_is_retried_only_once_the_interval_has_passed() {
        let unused = TcpListener::bind("127.0.0.1:0").unwrap();
        let issuer = format!("http://{}", unused.local_addr().unwrap());
        drop(unused);
        let clock = Arc::new(ManualClock::at(T0));
        let keys = cache(&issuer, &clock);
        assert!(keys.refresh().await.is_err(), "the first attempt fails");
        // Within the interval the failed attempt stands: no new attempt, no error.
        assert!(keys.refresh().await.is_ok());
        clock.advance(9);
        assert!(keys.refresh().await.is_ok());
        assert!(matches!(
            keys.key("k1").await,
            Err(KeyError::Unavailable(_))
        ));
        assert!(!keys.is_loaded());
        clock.advance(1);
        assert!(
            keys.refresh().await.is_err(),
            "past the interval: tried again"
        );
    }
}
