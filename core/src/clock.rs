//! The wall clock, the one place the core reads the time.
//!
//! Every time-dependent check takes the time as a parameter (`*_at(.., now)`); the
//! wrappers without `_at` call [`unix_now`] and exist on native targets only (wasm
//! callers pass `Date.now() / 1000` from JavaScript), so this module is empty there.
#![cfg(not(target_arch = "wasm32"))]

use crate::error::{Error, Result};

/// Seconds since the Unix epoch from the system clock (native targets only; on
/// wasm pass the time from JavaScript to the `*_at` forms).
///
/// # Errors
/// [`Error::InvalidArgument`] if the clock is before 1970 or out of range.
pub fn unix_now() -> Result<i64> {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|_| Error::InvalidArgument("system clock is before 1970"))?;
    i64::try_from(d.as_secs()).map_err(|_| Error::InvalidArgument("system clock out of range"))
}
