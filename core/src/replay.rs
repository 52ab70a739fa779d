//! Replay guard: an event id (webhook id, nonce, JWT `jti`) is accepted once.
//!
//! [`ReplayGuard`] is the bounded in-memory store for a single process; the
//! `keycustody-store` crate implements the same [`ReplayStore`] trait on SQLite and
//! PostgreSQL (insert-if-absent with expiry) so many app instances share one.
//!
//! An id recorded at `now` is refused through `now + ttl` **inclusive** and accepted
//! again from `now + ttl + 1`. Pick a ttl of at least twice the timestamp tolerance of
//! the verifier in front of the guard (for webhooks: 300 s each way, so 600 s). The
//! verifier accepts `|now - t| <= tolerance`, both ends included, so an event first
//! seen at `t - tolerance` can come back at `t + tolerance` = recorded + 2 × tolerance:
//! exactly the last second the guard still holds it. The SQLite and PostgreSQL guards
//! in `keycustody-store` use the same boundary (`expires_at < now` frees a row).
//!
//! When the in-memory guard is full of unexpired ids it **fails closed**: the new
//! id is refused with [`Error::InvalidArgument`]`("replay guard is full")` rather
//! than forgetting an id that could then be replayed.

use crate::error::{Error, Result};
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// The capacity the bindings' `ReplayGuard()` uses when none is given, in ids.
pub const DEFAULT_REPLAY_CAPACITY: usize = 100_000;
/// The ttl the bindings' `ReplayGuard()` uses when none is given, in seconds: twice
/// [`DEFAULT_TOLERANCE`](crate::DEFAULT_TOLERANCE), the shortest ttl that holds an id
/// through the verifier's whole window (see the module text), so 600 s.
pub const DEFAULT_REPLAY_TTL: u64 = 2 * crate::webhook::DEFAULT_TOLERANCE;

/// The largest ttl a replay guard accepts, in seconds (10 years of 366 days).
pub const MAX_REPLAY_TTL: u64 = 10 * 366 * 86_400;
/// The largest capacity [`ReplayGuard::new`] accepts, in ids.
pub const MAX_REPLAY_CAPACITY: usize = 10_000_000;

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
    /// id -> expiry (inclusive: the id is still refused at `expires_at`, free after it).
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
    /// [`Error::InvalidArgument`] unless `1 <= capacity <= MAX_REPLAY_CAPACITY`
    /// (10 000 000) and `1 <= ttl_seconds <= MAX_REPLAY_TTL` (10 years).
    pub fn new(capacity: usize, ttl_seconds: u64) -> Result<ReplayGuard> {
        if capacity == 0 || capacity > MAX_REPLAY_CAPACITY {
            return Err(Error::InvalidArgument(
                "capacity must be 1 to 10000000 entries",
            ));
        }
        if ttl_seconds == 0 || ttl_seconds > MAX_REPLAY_TTL {
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
            // Held through `exp` inclusive (see the module docs).
            if exp >= now {
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
        self.check_and_record_at(id, crate::clock::unix_now()?)
    }

    /// Drops expired ids, those with `exp < now` (and compacts the order queue).
    fn prune(g: &mut Inner, now: i64) {
        let Inner { seen, order } = g;
        order.retain(|(id, exp)| {
            let current = seen.get(id) == Some(exp);
            if *exp < now {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webhook::{sign_stripe_payload, verify_stripe_signature_at, DEFAULT_TOLERANCE};

    /// Finding 5: the verifier accepts `|now - t| == tolerance`, so with the documented
    /// ttl (2 x tolerance) a replay at exactly the far boundary must still be refused.
    #[test]
    fn replay_at_the_tolerance_boundary_is_refused() {
        let tol = DEFAULT_TOLERANCE;
        let tol_i = i64::try_from(tol).unwrap();
        let t = 1_700_000_000;
        let header = sign_stripe_payload(b"{}", "whsec_x", t).unwrap();
        let g = ReplayGuard::new(10, 2 * tol).unwrap();
        // First delivery at the earliest second the verifier accepts.
        let first = t - tol_i;
        verify_stripe_signature_at(b"{}", &header, "whsec_x", tol, first).unwrap();
        g.check_and_record_at("evt", first).unwrap();
        // The replay at the latest second it accepts.
        let last = t + tol_i;
        verify_stripe_signature_at(b"{}", &header, "whsec_x", tol, last).unwrap();
        assert_eq!(g.check_and_record_at("evt", last), Err(Error::Replayed));
        // One second later the verifier refuses the event itself, and the guard lets go.
        assert_eq!(
            verify_stripe_signature_at(b"{}", &header, "whsec_x", tol, last + 1),
            Err(Error::TimestampOutOfTolerance)
        );
        assert_eq!(g.check_and_record_at("evt", last + 1), Ok(()));
    }

    /// Pruning frees exactly the ids with `exp < now`.
    #[test]
    fn prune_keeps_ids_expiring_now() {
        let g = ReplayGuard::new(2, 10).unwrap();
        g.check_and_record_at("a", 0).unwrap(); // exp 10
        g.check_and_record_at("b", 1).unwrap(); // exp 11
                                                // Full at 10: "a" expires at 10 and is still held.
        assert_eq!(
            g.check_and_record_at("c", 10),
            Err(Error::InvalidArgument("replay guard is full"))
        );
        assert_eq!(g.check_and_record_at("c", 11), Ok(())); // "a" freed
        assert_eq!(g.check_and_record_at("b", 11), Err(Error::Replayed));
    }
}
