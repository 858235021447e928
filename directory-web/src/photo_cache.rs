//! The website's cache of staff photos, bounded in entries and in bytes, so that visitors'
//! requests for photos never grow the site's memory without bound.
//!
//! Each entry is the API's image with its ETag and when the API last confirmed it. A photo
//! confirmed less than [`FRESH_SECS`] ago is served without asking the API; an older one is
//! revalidated with a conditional request (`If-None-Match`: a 304 costs the API no image).
//! The site forgets a record's entries itself when one of its own visitors changes that photo,
//! so they see the change at once; other instances of the site see it within [`FRESH_SECS`].
//! When a bound is reached the oldest entries go first.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use crate::api_client::photos::{FetchedImage, PhotoSize};

/// How long an entry is served without asking the API again, in seconds.
pub const FRESH_SECS: i64 = 10;
/// Entries kept at most (a photo and a thumbnail are two).
pub const MAX_ENTRIES: usize = 1024;
/// Bytes of images kept at most.
pub const MAX_BYTES: usize = 32 * 1024 * 1024;

/// A cached image.
#[derive(Debug, Clone)]
pub struct Cached {
    /// The image as the API sent it.
    pub image: FetchedImage,
    /// When the API last confirmed it (Unix seconds).
    pub checked_at: i64,
}

impl Cached {
    /// Whether it may be served without asking the API, at `now`.
    pub fn is_fresh(&self, now: i64) -> bool {
        (0..FRESH_SECS).contains(&(now - self.checked_at))
    }
}

type Key = (i64, PhotoSize);

#[derive(Debug, Default)]
struct Entries {
    by_key: HashMap<Key, Cached>,
    /// Keys, oldest first.
    order: VecDeque<Key>,
    bytes: usize,
}

impl Entries {
    fn remove(&mut self, key: &Key) {
        if let Some(old) = self.by_key.remove(key) {
            self.bytes -= old.image.bytes.len();
            self.order.retain(|k| k != key);
        }
    }
}

/// The cache (see the module documentation).
#[derive(Debug)]
pub struct PhotoCache {
    entries: Mutex<Entries>,
    max_entries: usize,
    max_bytes: usize,
}

impl Default for PhotoCache {
    fn default() -> Self {
        Self::new(MAX_ENTRIES, MAX_BYTES)
    }
}

impl PhotoCache {
    /// A cache of at most `max_entries` images and `max_bytes` bytes of them.
    pub fn new(max_entries: usize, max_bytes: usize) -> Self {
        Self {
            entries: Mutex::new(Entries::default()),
            max_entries,
            max_bytes,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        // A panic while holding the lock cannot leave the entries inconsistent in a way that
        // matters more than losing the cache: carry on with them.
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The entry of record `id`'s `size`, if cached.
    pub fn get(&self, id: i64, size: PhotoSize) -> Option<Cached> {
        self.lock().by_key.get(&(id, size)).cloned()
    }

    /// Keeps `image` as record `id`'s `size`, confirmed at `now`, evicting the oldest entries
    /// to stay within the bounds (an image larger than a quarter of the byte bound is not kept).
    pub fn put(&self, id: i64, size: PhotoSize, image: FetchedImage, now: i64) {
        let key = (id, size);
        let mut entries = self.lock();
        entries.remove(&key);
        let len = image.bytes.len();
        if len > self.max_bytes / 4 || self.max_entries == 0 {
            return;
        }
        while entries.by_key.len() >= self.max_entries || entries.bytes + len > self.max_bytes {
            let Some(oldest) = entries.order.front().copied() else {
                break;
            };
            entries.remove(&oldest);
        }
        entries.bytes += len;
        entries.order.push_back(key);
        entries.by_key.insert(
            key,
            Cached {
                image,
                checked_at: now,
            },
        );
    }

    /// Notes that the API confirmed record `id`'s `size` at `now` (a 304).
    pub fn confirmed(&self, id: i64, size: PhotoSize, now: i64) {
        if let Some(entry) = self.lock().by_key.get_mut(&(id, size)) {
            entry.checked_at = now;
        }
    }

    /// Forgets both images of record `id`.
    pub fn forget(&self, id: i64) {
        let mut entries = self.lock();
        entries.remove(&(id, PhotoSize::Full));
        entries.remove(&(id, PhotoSize::Thumbnail));
    }

    /// Entries and bytes held.
    pub fn usage(&self) -> (usize, usize) {
        let entries = self.lock();
        (entries.by_key.len(), entries.bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(tag: &str, len: usize) -> FetchedImage {
        FetchedImage {
            content_type: "image/jpeg".into(),
            etag: format!("\"{tag}\""),
            bytes: vec![0; len].into(),
        }
    }

    #[test]
    fn entries_are_fresh_for_a_while_then_revalidated() {
        let cache = PhotoCache::default();
        cache.put(1, PhotoSize::Full, image("a", 10), 100);
        let entry = cache.get(1, PhotoSize::Full).unwrap();
        assert!(entry.is_fresh(100) && entry.is_fresh(100 + FRESH_SECS - 1));
        assert!(!entry.is_fresh(100 + FRESH_SECS));
        assert!(!entry.is_fresh(99), "a clock that went back proves nothing");
        cache.confirmed(1, PhotoSize::Full, 200);
        assert!(cache.get(1, PhotoSize::Full).unwrap().is_fresh(200));
        assert!(cache.get(1, PhotoSize::Thumbnail).is_none());
    }

    #[test]
    fn the_oldest_go_first_when_a_bound_is_reached() {
        let cache = PhotoCache::new(3, 100);
        for id in 1..=4 {
            cache.put(id, PhotoSize::Thumbnail, image("t", 10), 0);
        }
        assert_eq!(cache.usage(), (3, 30));
        assert!(cache.get(1, PhotoSize::Thumbnail).is_none());
        // Bytes: 25 + 25 + 30 = 80 fits with two of the old; a third 25 pushes another out.
        cache.put(5, PhotoSize::Full, image("f", 25), 0);
        cache.put(6, PhotoSize::Full, image("f", 25), 0);
        assert_eq!(cache.usage(), (3, 60));
        cache.put(7, PhotoSize::Full, image("f", 25), 0);
        let (entries, bytes) = cache.usage();
        assert!(entries <= 3 && bytes <= 100, "{entries} {bytes}");
        // Too large for the cache at all: not kept, nothing evicted for it.
        cache.put(8, PhotoSize::Full, image("big", 26), 0);
        assert!(cache.get(8, PhotoSize::Full).is_none());
        assert!(cache.get(7, PhotoSize::Full).is_some());
    }

    #[test]
    fn replacing_and_forgetting_keep_the_count_of_bytes_right() {
        let cache = PhotoCache::default();
        cache.put(1, PhotoSize::Full, image("a", 10), 0);
        cache.put(1, PhotoSize::Full, image("b", 20), 0);
        cache.put(1, PhotoSize::Thumbnail, image("c", 5), 0);
        assert_eq!(cache.usage(), (2, 25));
        assert_eq!(cache.get(1, PhotoSize::Full).unwrap().image.etag, "\"b\"");
        cache.forget(1);
        assert_eq!(cache.usage(), (0, 0));
    }
}
