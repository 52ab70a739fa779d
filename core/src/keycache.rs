//! The expanded envelope ciphers of recently used owners, per root key.
//!
//! On wasm32 the AES-256-GCM implementation is software (RustCrypto `aes-gcm`), where
//! deriving an owner's key (HKDF-SHA256) and expanding it (AES key schedule, GHASH key)
//! cost more than sealing a small value. A keyring that seals or opens for the same owners again, as a
//! browser page or an edge function does, keeps their expanded ciphers here: at most
//! [`CAPACITY`] per root key, the least recently used evicted first. Evicted ciphers are
//! wiped (the `zeroize` feature of `aes-gcm`; the cache holds only values that are wiped on
//! drop, a bound checked at compile time), and the whole cache goes when its key's
//! material does: retiring a key drops it. Only the RustCrypto backend uses it; `ring` keys
//! are cheaper to set up than a lock.

use crate::error::Result;
use std::sync::{Mutex, PoisonError};
use zeroize::ZeroizeOnDrop;

/// Owners kept per root key.
pub(crate) const CAPACITY: usize = 16;

pub(crate) struct OwnerCache<V: ZeroizeOnDrop> {
    slots: Mutex<Slots<V>>,
}

struct Slots<V> {
    entries: Vec<Slot<V>>,
    clock: u64,
}

struct Slot<V> {
    owner: Box<str>,
    value: V,
    used: u64,
}

impl<V: ZeroizeOnDrop> OwnerCache<V> {
    pub(crate) fn new() -> Self {
        OwnerCache {
            slots: Mutex::new(Slots {
                entries: Vec::new(),
                clock: 0,
            }),
        }
    }

    /// Runs `f` on the value cached for `owner`, first making it with `make` on a miss
    /// (an error from `make` is returned and nothing is cached).
    pub(crate) fn with<T>(
        &self,
        owner: &str,
        make: impl FnOnce() -> Result<V>,
        f: impl FnOnce(&V) -> Result<T>,
    ) -> Result<T> {
        // A panic while the lock was held cannot leave a slot half-written: recover it.
        let mut s = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        s.clock += 1;
        let now = s.clock;
        let i = match s.entries.iter().position(|e| &*e.owner == owner) {
            Some(i) => i,
            None => {
                let slot = Slot {
                    owner: owner.into(),
                    value: make()?,
                    used: now,
                };
                if s.entries.len() < CAPACITY {
                    // Reserved once, so the entries never move to a new allocation (which
                    // would leave unwiped copies behind).
                    if s.entries.capacity() == 0 {
                        s.entries.reserve_exact(CAPACITY);
                    }
                    s.entries.push(slot);
                    s.entries.len() - 1
                } else {
                    let lru = s
                        .entries
                        .iter()
                        .enumerate()
                        .min_by_key(|(_, e)| e.used)
                        .map_or(0, |(i, _)| i);
                    s.entries[lru] = slot; // the evicted value is dropped (and wiped) here
                    lru
                }
            }
        };
        s.entries[i].used = now;
        f(&s.entries[i].value)
    }

    #[cfg(test)]
    fn owners(&self) -> Vec<String> {
        let s = self.slots.lock().unwrap();
        s.entries.iter().map(|e| e.owner.to_string()).collect()
    }
}

/// A copy starts empty: a keyring's state is cloned when it changes, and the new state
/// derives what it needs.
impl<V: ZeroizeOnDrop> Clone for OwnerCache<V> {
    fn clone(&self) -> Self {
        OwnerCache::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;
    use zeroize::Zeroizing;

    type V = Zeroizing<String>;

    fn get(c: &OwnerCache<V>, owner: &str, made: &mut Vec<String>) -> String {
        c.with(
            owner,
            || {
                made.push(owner.to_owned());
                Ok(Zeroizing::new(format!("v-{owner}")))
            },
            |v| Ok(v.to_string()),
        )
        .unwrap()
    }

    #[test]
    fn hits_do_not_remake_and_values_belong_to_their_owner() {
        let c = OwnerCache::new();
        let mut made = Vec::new();
        for _ in 0..3 {
            assert_eq!(get(&c, "alice", &mut made), "v-alice");
            assert_eq!(get(&c, "bob", &mut made), "v-bob");
        }
        assert_eq!(made, ["alice", "bob"]);
    }

    #[test]
    fn evicts_the_least_recently_used_and_stays_bounded() {
        let c = OwnerCache::new();
        let mut made = Vec::new();
        for i in 0..CAPACITY {
            get(&c, &format!("o{i}"), &mut made);
        }
        // Touch o0, so o1 is now the least recently used.
        get(&c, "o0", &mut made);
        get(&c, "new", &mut made);
        let owners = c.owners();
        assert_eq!(owners.len(), CAPACITY);
        assert!(owners.contains(&"o0".to_owned()) && owners.contains(&"new".to_owned()));
        assert!(!owners.contains(&"o1".to_owned()));
        made.clear();
        get(&c, "o1", &mut made);
        assert_eq!(made, ["o1"], "an evicted owner is made again");
        for i in 0..10 * CAPACITY {
            get(&c, &format!("p{i}"), &mut made);
        }
        assert_eq!(c.owners().len(), CAPACITY);
    }

    #[test]
    fn a_failed_make_caches_nothing_and_returns_its_error() {
        let c: OwnerCache<V> = OwnerCache::new();
        let r = c.with("x", || Err(Error::InvalidOwner), |v| Ok(v.to_string()));
        assert_eq!(r, Err(Error::InvalidOwner));
        assert!(c.owners().is_empty());
        // The error from `f` is returned too, and the value stays cached.
        let r: Result<()> = c.with(
            "y",
            || Ok(Zeroizing::new("v".into())),
            |_| Err(Error::DecryptFailed),
        );
        assert_eq!(r, Err(Error::DecryptFailed));
        assert_eq!(c.owners(), ["y"]);
    }

    #[test]
    fn a_clone_starts_empty() {
        let c = OwnerCache::new();
        get(&c, "alice", &mut Vec::new());
        assert!(c.clone().owners().is_empty());
    }
}
