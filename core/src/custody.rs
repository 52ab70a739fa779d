//! Tenant keyrings (DESIGN §7): a tenant's keyring sealed under the platform keyring as an
//! ordinary kc1 envelope with the fixed context [`KEYRING_CONTEXT`], and a bounded cache of
//! unwrapped tenant keyrings (LRU + TTL, time as a parameter, wiped on eviction).

use crate::error::Result;
use crate::keyring::Keyring;
use std::sync::{Arc, Mutex, MutexGuard};

/// The kc1 context of a tenant keyring sealed under the platform keyring
/// (`platform.seal(tenant, tenant_keyring_text, KEYRING_CONTEXT)`).
pub const KEYRING_CONTEXT: &str = "keycustody/v1/keyring";

/// The default number of tenant keyrings a [`TenantKeyringCache`] holds.
pub const DEFAULT_TENANT_CACHE_CAPACITY: usize = 10_000;
/// The default time, in seconds, a cached tenant keyring is used before it is loaded again
/// (a revoked customer-managed key takes effect within it).
pub const DEFAULT_TENANT_CACHE_TTL: u64 = 300;
/// The largest capacity of a [`TenantKeyringCache`]; larger ones are cut to it.
pub const MAX_TENANT_CACHE_CAPACITY: usize = 10_000_000;

impl Keyring {
    /// Seals `keyring` (a tenant keyring) under this keyring (the platform keyring): a kc1
    /// envelope with owner `tenant` and context [`KEYRING_CONTEXT`], whose plaintext is the
    /// tenant keyring's text form. Rotating the platform root rewraps these like any envelope.
    ///
    /// # Errors
    /// As [`Keyring::seal`] ([`crate::Error::InvalidOwner`] for the tenant).
    pub fn seal_keyring(&self, tenant: &str, keyring: &Keyring) -> Result<String> {
        let text = keyring.export()?;
        self.seal(
            tenant,
            text.expose_secret().as_bytes(),
            KEYRING_CONTEXT.as_bytes(),
        )
    }

    /// Opens a tenant keyring sealed by [`Keyring::seal_keyring`]. The plaintext exists only
    /// in zeroizing buffers.
    ///
    /// # Errors
    /// As [`Keyring::open`]: [`crate::Error::DecryptFailed`] for the wrong tenant, the wrong
    /// platform key or tampering, [`crate::Error::Malformed`], [`crate::Error::UnknownKey`],
    /// [`crate::Error::KeyRetired`]; then as [`Keyring::parse`] for a plaintext that is not a keyring.
    pub fn open_keyring(&self, tenant: &str, envelope: &str) -> Result<Keyring> {
        let plain = self.open(tenant, envelope, KEYRING_CONTEXT.as_bytes())?;
        let text = plain.into_string()?;
        Keyring::parse(text.expose_secret())
    }
}

struct Cached {
    keyring: Arc<Keyring>,
    loaded_at: u64,
}

struct Inner {
    // Unbounded in `lru`'s terms (no preallocation); the capacity is enforced on insert.
    map: lru::LruCache<String, Cached>,
}

/// A bounded cache of unwrapped tenant keyrings: least recently used evicted first, each
/// entry used for at most `ttl_secs` after it was loaded. Time is a parameter (`now`, in
/// seconds; any monotonic clock the caller chooses).
///
/// An evicted, expired or invalidated keyring is dropped by the cache; its secrets are
/// wiped when the last [`Arc`] handed out for it is dropped. A capacity of 0 (or a TTL of
/// 0) caches nothing. `Send + Sync` (one mutex inside). `Debug` shows sizes only.
pub struct TenantKeyringCache {
    inner: Mutex<Inner>,
    capacity: usize,
    ttl: u64,
}

impl std::fmt::Debug for TenantKeyringCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantKeyringCache")
            .field("len", &self.len())
            .field("capacity", &self.capacity)
            .field("ttl", &self.ttl)
            .finish()
    }
}

impl TenantKeyringCache {
    /// A cache of at most `capacity` keyrings (cut to [`MAX_TENANT_CACHE_CAPACITY`]), each
    /// used for `ttl_secs` seconds after it was loaded.
    #[must_use]
    pub fn new(capacity: usize, ttl_secs: u64) -> TenantKeyringCache {
        TenantKeyringCache {
            inner: Mutex::new(Inner {
                map: lru::LruCache::unbounded(),
            }),
            capacity: capacity.min(MAX_TENANT_CACHE_CAPACITY),
            ttl: ttl_secs,
        }
    }

    /// The capacity (after the cut to [`MAX_TENANT_CACHE_CAPACITY`]).
    #[must_use]
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The TTL in seconds.
    #[must_use]
    pub fn ttl(&self) -> u64 {
        self.ttl
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while the lock was held leaves a consistent map (every operation on it
        // is one call into `lru`), so a poisoned lock is still usable.
        match self.inner.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    fn fresh(&self, loaded_at: u64, now: u64) -> bool {
        // A clock that went back counts as no time passed.
        now.saturating_sub(loaded_at) < self.ttl
    }

    /// The cached keyring of `tenant` if it was loaded less than the TTL before `now`
    /// (marking it most recently used); an expired one is removed.
    #[must_use]
    pub fn get(&self, tenant: &str, now: u64) -> Option<Arc<Keyring>> {
        let mut g = self.lock();
        let cached = g.map.get(tenant)?;
        if self.fresh(cached.loaded_at, now) {
            return Some(Arc::clone(&cached.keyring));
        }
        let expired = g.map.pop(tenant);
        drop(g);
        drop(expired);
        None
    }

    /// Caches `keyring` as `tenant`'s, loaded at `now` (replacing any previous one; evicting
    /// the least recently used one when full) and returns it.
    pub fn insert(&self, tenant: &str, keyring: Keyring, now: u64) -> Arc<Keyring> {
        let keyring = Arc::new(keyring);
        if self.capacity == 0 || self.ttl == 0 {
            return keyring;
        }
        let mut g = self.lock();
        let mut dropped = Vec::new();
        if !g.map.contains(tenant) {
            while g.map.len() >= self.capacity {
                match g.map.pop_lru() {
                    Some(old) => dropped.push(old),
                    None => break,
                }
            }
        }
        let previous = g.map.put(
            tenant.to_owned(),
            Cached {
                keyring: Arc::clone(&keyring),
                loaded_at: now,
            },
        );
        drop(g);
        // Dropped (and wiped, if nobody else holds them) outside the lock.
        drop(previous);
        drop(dropped);
        keyring
    }

    /// The cached keyring of `tenant`, or the one `load` returns (then cached). `load` runs
    /// without the lock held, so a slow KMS call does not block other tenants; two threads
    /// that miss the same tenant at once may both load it.
    ///
    /// # Errors
    /// Whatever `load` returns; nothing is cached then.
    pub fn get_or_load(
        &self,
        tenant: &str,
        now: u64,
        load: impl FnOnce() -> Result<Keyring>,
    ) -> Result<Arc<Keyring>> {
        if let Some(k) = self.get(tenant, now) {
            return Ok(k);
        }
        let keyring = load()?;
        Ok(self.insert(tenant, keyring, now))
    }

    /// Removes `tenant`'s keyring (after a rotation or a shred).
    pub fn invalidate(&self, tenant: &str) {
        let removed = self.lock().map.pop(tenant);
        drop(removed);
    }

    /// Removes every keyring.
    pub fn clear(&self) {
        let old = std::mem::replace(&mut self.lock().map, lru::LruCache::unbounded());
        drop(old);
    }

    /// The number of keyrings held (expired ones included until they are next looked up).
    #[must_use]
    pub fn len(&self) -> usize {
        self.lock().map.len()
    }

    /// Whether no keyring is held.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    fn tenant_keyring() -> Keyring {
        Keyring::generate().unwrap()
    }

    #[test]
    fn seal_and_open_a_tenant_keyring() {
        let platform = Keyring::generate().unwrap();
        let tenant = tenant_keyring();
        tenant.rotate().unwrap();
        let env = platform.seal_keyring("acme", &tenant).unwrap();
        assert!(env.starts_with("kc1."));
        let back = platform.open_keyring("acme", &env).unwrap();
        assert_eq!(
            back.export().unwrap().expose_secret(),
            tenant.export().unwrap().expose_secret()
        );
        // It is an ordinary kc1 envelope under the fixed context.
        let plain = platform
            .open("acme", &env, KEYRING_CONTEXT.as_bytes())
            .unwrap();
        assert_eq!(
            plain.expose_secret(),
            tenant.export().unwrap().expose_secret().as_bytes()
        );
    }

    #[test]
    fn open_keyring_refuses_wrong_tenant_context_and_platform() {
        let platform = Keyring::generate().unwrap();
        let env = platform.seal_keyring("acme", &tenant_keyring()).unwrap();
        assert_eq!(
            platform.open_keyring("evil", &env).unwrap_err(),
            Error::DecryptFailed
        );
        let other = Keyring::generate().unwrap();
        assert_eq!(
            other.open_keyring("acme", &env).unwrap_err(),
            Error::DecryptFailed
        );
        // A tenant's data envelope is not a keyring envelope (other context).
        let data = platform.seal("acme", b"{}", b"").unwrap();
        assert_eq!(
            platform.open_keyring("acme", &data).unwrap_err(),
            Error::DecryptFailed
        );
        // Authentic but not a keyring: the keyring parser's error.
        let junk = platform
            .seal("acme", b"not a keyring", KEYRING_CONTEXT.as_bytes())
            .unwrap();
        assert_eq!(
            platform.open_keyring("acme", &junk).unwrap_err().kind(),
            "Malformed"
        );
        assert_eq!(
            platform.seal_keyring("", &tenant_keyring()).unwrap_err(),
            Error::InvalidOwner
        );
    }

    #[test]
    fn cache_hits_until_the_ttl_then_reloads() {
        let c = TenantKeyringCache::new(4, 10);
        assert!(c.get("a", 100).is_none());
        let k = c.insert("a", tenant_keyring(), 100);
        let hit = c.get("a", 109).unwrap();
        assert!(Arc::ptr_eq(&k, &hit));
        // At the TTL the entry is expired and removed.
        assert!(c.get("a", 110).is_none());
        assert_eq!(c.len(), 0);
        // A clock that went back is not an expiry.
        c.insert("b", tenant_keyring(), 100);
        assert!(c.get("b", 50).is_some());
    }

    #[test]
    fn cache_evicts_least_recently_used_and_wipes_it() {
        let c = TenantKeyringCache::new(2, 1000);
        let a = Arc::downgrade(&c.insert("a", tenant_keyring(), 0));
        let b = Arc::downgrade(&c.insert("b", tenant_keyring(), 0));
        // Touch a: b becomes the least recently used.
        assert!(c.get("a", 1).is_some());
        let _ = c.insert("c", tenant_keyring(), 2);
        assert_eq!(c.len(), 2);
        assert!(c.get("b", 3).is_none());
        // Nobody holds b any more: it was dropped, so its SecretBytes were wiped.
        assert!(b.upgrade().is_none());
        assert!(a.upgrade().is_some());
        // Replacing an entry drops the old keyring too.
        let _ = c.insert("a", tenant_keyring(), 4);
        assert!(a.upgrade().is_none());
        assert_eq!(c.len(), 2);
    }

    #[test]
    fn expired_invalidated_and_cleared_entries_are_dropped() {
        let c = TenantKeyringCache::new(8, 5);
        let a = Arc::downgrade(&c.insert("a", tenant_keyring(), 0));
        assert!(c.get("a", 5).is_none());
        assert!(a.upgrade().is_none());
        let b = Arc::downgrade(&c.insert("b", tenant_keyring(), 0));
        c.invalidate("b");
        assert!(b.upgrade().is_none());
        let d = Arc::downgrade(&c.insert("d", tenant_keyring(), 0));
        let e = Arc::downgrade(&c.insert("e", tenant_keyring(), 0));
        assert_eq!(c.len(), 2);
        c.clear();
        assert!(c.is_empty() && d.upgrade().is_none() && e.upgrade().is_none());
    }

    #[test]
    fn a_keyring_handed_out_survives_eviction_until_dropped() {
        let c = TenantKeyringCache::new(1, 1000);
        let held = c.insert("a", tenant_keyring(), 0);
        let _ = c.insert("b", tenant_keyring(), 0);
        assert!(c.get("a", 0).is_none());
        // Still usable by the holder.
        let env = held.seal("a", b"x", b"").unwrap();
        assert_eq!(held.open("a", &env, b"").unwrap().expose_secret(), b"x");
    }

    #[test]
    fn get_or_load_loads_once_per_ttl_and_caches_no_failure() {
        let c = TenantKeyringCache::new(8, 10);
        let mut loads = 0;
        for now in 0..10 {
            c.get_or_load("a", now, || {
                loads += 1;
                Ok(tenant_keyring())
            })
            .unwrap();
        }
        assert_eq!(loads, 1);
        c.get_or_load("a", 10, || {
            loads += 1;
            Ok(tenant_keyring())
        })
        .unwrap();
        assert_eq!(loads, 2);
        assert_eq!(
            c.get_or_load("x", 0, || Err(Error::KekUnavailable("aws-kms")))
                .unwrap_err(),
            Error::KekUnavailable("aws-kms")
        );
        assert!(c.get("x", 0).is_none());
    }

    #[test]
    fn zero_capacity_or_ttl_caches_nothing_and_capacity_is_bounded() {
        for c in [
            TenantKeyringCache::new(0, 10),
            TenantKeyringCache::new(10, 0),
        ] {
            let k = c.insert("a", tenant_keyring(), 0);
            assert!(k.primary_kid() == 1);
            assert!(c.get("a", 0).is_none());
            assert_eq!(c.len(), 0);
        }
        assert_eq!(
            TenantKeyringCache::new(usize::MAX, 1).capacity(),
            MAX_TENANT_CACHE_CAPACITY
        );
    }

    #[test]
    fn cache_is_send_sync_and_debug_shows_no_secret() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<TenantKeyringCache>();
        let c = TenantKeyringCache::new(8, 10);
        let k = tenant_keyring();
        let secret = k.kids()[0].fingerprint.clone();
        c.insert("acme", k, 0);
        let dbg = format!("{c:?}");
        assert!(dbg.contains("len: 1") && !dbg.contains("acme") && !dbg.contains(&secret));
    }
}
