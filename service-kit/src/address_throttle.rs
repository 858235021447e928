//! Bounded, in-memory counting of failures per client address: the website counts failed
//! sign-ins per visitor address (against password spraying), the authorization server counts
//! failed authentications of client ids that do not exist (so that they never reach its
//! database). Also: which address a request comes from, believing `X-Forwarded-For` only from
//! trusted proxies.
//!
//! Each address (an IPv6 address by its /64 prefix, which one host usually owns whole) has a
//! counter over a fixed window that begins at its first failure. Once the counter reaches the
//! limit, the address is refused until the window ends. The state is per instance and bounded:
//! when the table is full, expired windows are dropped first, then the oldest tenth.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::Mutex;

use actix_web::HttpRequest;

/// Addresses tracked at most (a few MiB at most).
pub const DEFAULT_CAPACITY: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Window {
    start: i64,
    failures: u32,
}

/// Failures per client address.
#[derive(Debug)]
pub struct AddressThrottle {
    max_failures: u32,
    window_secs: i64,
    capacity: usize,
    windows: Mutex<HashMap<IpAddr, Window>>,
}

/// The key an address is counted under: IPv6 by its /64 prefix (an IPv4-mapped address as IPv4).
pub fn address_key(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

impl AddressThrottle {
    /// `max_failures` failed sign-ins per `window_secs` per address, tracking at most
    /// `capacity` addresses.
    pub fn new(max_failures: u32, window_secs: i64, capacity: usize) -> Self {
        Self {
            max_failures,
            window_secs,
            capacity: capacity.max(1),
            windows: Mutex::new(HashMap::new()),
        }
    }

    fn windows(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, Window>> {
        self.windows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Counts an attempt from `address` before its credentials are checked:
    /// `Err(seconds until it may try again)` when the address has used up its failures. The
    /// attempt is counted as a failure at once, so that many attempts in parallel cannot all
    /// slip under the limit; [`AddressThrottle::not_a_failure`] takes it back.
    pub fn begin(&self, address: IpAddr, now: i64) -> Result<(), i64> {
        let mut windows = self.windows();
        let k = address_key(address);
        if let Some(w) = windows.get(&k)
            && now - w.start < self.window_secs
            && w.failures >= self.max_failures
        {
            return Err((w.start + self.window_secs - now).max(1));
        }
        if !windows.contains_key(&k) && windows.len() >= self.capacity {
            self.make_room(&mut windows, now);
        }
        let window_secs = self.window_secs;
        let window = windows.entry(k).or_insert(Window {
            start: now,
            failures: 0,
        });
        if now - window.start >= window_secs {
            *window = Window {
                start: now,
                failures: 0,
            };
        }
        window.failures = window.failures.saturating_add(1);
        Ok(())
    }

    /// The attempt begun for `address` did not fail (the credentials were right, or could
    /// not be checked): it no longer counts.
    pub fn not_a_failure(&self, address: IpAddr) {
        if let Some(w) = self.windows().get_mut(&address_key(address)) {
            w.failures = w.failures.saturating_sub(1);
        }
    }

    /// Drops expired windows, then, if the table is still full, the oldest tenth of it at
    /// once, so that a flood of new addresses costs one scan per tenth of the table rather
    /// than one per address.
    fn make_room(&self, windows: &mut HashMap<IpAddr, Window>, now: i64) {
        let window_secs = self.window_secs;
        windows.retain(|_, w| now - w.start < window_secs);
        if windows.len() >= self.capacity {
            let mut starts: Vec<i64> = windows.values().map(|w| w.start).collect();
            let nth = starts.len() / 10;
            let (_, threshold, _) = starts.select_nth_unstable(nth);
            let threshold = *threshold;
            windows.retain(|_, w| w.start > threshold);
        }
    }

    /// Addresses tracked now.
    pub fn tracked(&self) -> usize {
        self.windows().len()
    }
}

/// The visitor's address: the peer's, or — only when the peer is one of `trusted_proxies` —
/// the right-most address in `X-Forwarded-For` that is not itself a trusted proxy (the ones
/// to its left could have been written by the visitor).
pub fn client_address(req: &HttpRequest, trusted_proxies: &[IpAddr]) -> Option<IpAddr> {
    let peer = req.peer_addr()?.ip();
    if !trusted_proxies.contains(&peer) {
        return Some(peer);
    }
    let forwarded = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    for entry in forwarded.iter().rev() {
        match entry.parse::<IpAddr>() {
            Ok(ip) if trusted_proxies.contains(&ip) => continue,
            Ok(ip) => return Some(ip),
            // Garbage where an address should be: the hop that wrote it is the client.
            Err(_) => break,
        }
    }
    Some(peer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_refused_after_its_failures_until_the_window_ends() {
        let t = AddressThrottle::new(3, 900, 10);
        let a: IpAddr = "203.0.113.7".parse().unwrap();
        for _ in 0..3 {
            assert_eq!(t.begin(a, 1000), Ok(()));
        }
        assert_eq!(t.begin(a, 1100), Err(800));
        assert_eq!(t.begin("203.0.113.8".parse().unwrap(), 1100), Ok(()));
        assert_eq!(t.begin(a, 1900), Ok(()));
    }

    #[test]
    fn an_attempt_that_did_not_fail_is_taken_back() {
        let t = AddressThrottle::new(2, 900, 10);
        let a: IpAddr = "203.0.113.7".parse().unwrap();
        for _ in 0..5 {
            assert_eq!(t.begin(a, 0), Ok(()));
            t.not_a_failure(a);
        }
        assert_eq!(t.begin(a, 0), Ok(()));
        assert_eq!(t.begin(a, 0), Ok(()));
        assert_eq!(t.begin(a, 0), Err(900));
    }

    #[test]
    fn one_ipv6_host_is_counted_by_its_prefix() {
        let t = AddressThrottle::new(2, 900, 10);
        assert!(t.begin("2001:db8:1:2::1".parse().unwrap(), 0).is_ok());
        assert!(t.begin("2001:db8:1:2::ffff".parse().unwrap(), 0).is_ok());
        assert!(t.begin("2001:db8:1:2:aaaa::9".parse().unwrap(), 1).is_err());
        assert!(t.begin("2001:db8:1:3::1".parse().unwrap(), 1).is_ok());
    }

    #[test]
    fn memory_stays_bounded_under_many_addresses() {
        let t = AddressThrottle::new(20, 900, 1000);
        for i in 0..50_000u32 {
            assert!(t.begin(IpAddr::V4(i.into()), i64::from(i)).is_ok());
        }
        assert!(t.tracked() <= 1000, "{}", t.tracked());
    }
}
