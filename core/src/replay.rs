//! Replay guard: an event id (webhook id, nonce, JWT `jti`) is accepted once.
//!
//! [`ReplayGuard`] is the bounded in-memory store for a single process; the
//! `keycustody-store` crate implements the same [`ReplayStore`] trait on SQLite and
//! PostgreSQL (insert-if-absent with expiry) so many app instances share one.
//!
//! An id is remembered until `now + ttl`; pick a ttl at least as long as the
//! timestamp tolerance of the verifier in front of the guard (for webhooks: 300 s
//! each way, so 600 s), so an id cannot come back once forgotten.
//!
//! When the in-memory guard is full of unexpired ids it **fails closed**: the new
//! id is refused with [`Error::InvalidArgument`]`("replay guard is full")` rather
//! than forgetting an id that could then be replayed.

use crate::error::{Error, Result};
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// The largest event id, in bytes.
pub const MAX_EVENT_ID_LEN: usize = 1024;

/// Something that accepts each event id once (until it expires).
pub trait ReplayStore {
    /// Records `id` as seen at `now` (seconds since the Unix epoch) unless it was
    /// already seen and has not expired.
    ///
    /// # Errors
    /// [`Error::Replayed`] if `id` was seen and is unexpired; implementation errors
    /// otherwise (full, I/O).
    fn check_and_record_at(&self, id: &str, now: i64) -> Result<()>;
}

/// Checks that an event id is 1 to [`MAX_EVENT_ID_LEN`] bytes.
///
/// # Errors
/// [`Error::InvalidArgument`].
pub fn check_event_id(id: &str) -> Result<()> {
    if id.is_empty() || id.len() > MAX_EVENT_ID_LEN {
        return Err(Error::InvalidArgument("event id must be 1 to 1024 bytes"));
    }
    Ok(())
}

#[derive(Default)]
struct Inner {
    /// id -> expiry (exclusive: the id is free again at `expires_at`).
    seen: HashMap<String, i64>,
    /// Insertion order, for pruning; may hold stale pairs for re-recorded ids.
    order: VecDeque<(String, i64)>,
}

/// A bounded, in-memory replay guard (thread-safe).
pub struct ReplayGuard {
    capacity: usize,
    ttl: i64,
    inner: Mutex<Inner>,
}

impl core::fmt::Debug for ReplayGuard {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ReplayGuard")
            .field("capacity", &self.capacity)
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl ReplayGuard {
    /// A guard that remembers at most `capacity` ids, each for `ttl_seconds`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] unless `1 <= capacity <= 10_000_000` and
    /// `1 <= ttl_seconds <= 10 years`.
    pub fn new(capacity: usize, ttl_seconds: u64) -> Result<ReplayGuard> {
        if capacity == 0 || capacity > 10_000_000 {
            return Err(Error::InvalidArgument(
                "capacity must be 1 to 10000000 entries",
            ));
        }
        if ttl_seconds == 0 || ttl_seconds > 10 * 366 * 86_400 {
            return Err(Error::InvalidArgument("ttl must be 1 s to 10 years"));
        }
        let ttl = i64::try_from(ttl_seconds).map_err(|_| Error::InvalidArgument("ttl"))?;
        Ok(ReplayGuard {
            capacity,
            ttl,
            inner: Mutex::new(Inner::default()),
        })
    }

    /// The capacity given to [`ReplayGuard::new`].
    #[must_use]
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Number of ids currently remembered (expired ones included until pruned).
    #[must_use]
    pub fn len(&self) -> usize {
        self.inner.lock().map(|g| g.seen.len()).unwrap_or(0)
    }

    /// Whether no id is remembered.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Accepts `id` once: records it at `now` (seconds since the Unix epoch) and
    /// returns `Ok`, or returns [`Error::Replayed`] if it was recorded before and
    /// has not expired.
    ///
    /// # Errors
    /// [`Error::Replayed`]; [`Error::InvalidArgument`] for an empty or over-long id,
    /// or when the guard is full of unexpired ids (fails closed).
    pub fn check_and_record_at(&self, id: &str, now: i64) -> Result<()> {
        check_event_id(id)?;
        // A poisoned lock only means another thread panicked mid-update; the map
        // is still consistent (every update is a single insert/remove).
        let mut g = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(&exp) = g.seen.get(id) {
            if exp > now {
                return Err(Error::Replayed);
            }
        }
        if g.seen.len() >= self.capacity && !g.seen.contains_key(id) {
            Self::prune(&mut g, now);
            if g.seen.len() >= self.capacity {
                return Err(Error::InvalidArgument("replay guard is full"));
            }
        }
        let exp = now.saturating_add(self.ttl);
        g.seen.insert(id.to_owned(), exp);
        g.order.push_back((id.to_owned(), exp));
        // Keep the order queue from growing without bound through re-recorded ids.
        if g.order.len() > self.capacity.saturating_mul(2) {
            Self::prune(&mut g, now);
        }
        Ok(())
    }

    /// [`ReplayGuard::check_and_record_at`] at the current wall-clock time (native only).
    ///
    /// # Errors
    /// As [`ReplayGuard::check_and_record_at`].
    #[cfg(not(target_arch = "wasm32"))]
    pub fn check_and_record(&self, id: &str) -> Result<()> {
        self.check_and_record_at(id, crate::webhook::unix_now()?)
    }

    /// Drops expired ids (and compacts the order queue).
    fn prune(g: &mut Inner, now: i64) {
        let Inner { seen, order } = g;
        order.retain(|(id, exp)| {
            let current = seen.get(id) == Some(exp);
            if *exp <= now {
                if current {
                    seen.remove(id);
                }
                false
            } else {
                current
            }
        });
    }
}

impl ReplayStore for ReplayGuard {
    fn check_and_record_at(&self, id: &str, now: i64) -> Result<()> {
        ReplayGuard::check_and_record_at(self, id, now)
    }
}
