//! The wall clock, the one place the core reads the time.
//!
//! Every time-dependent check takes the time as a parameter (`*_at(.., now)`); the
//! wrappers without `_at` call [`unix_now`] and exist on native targets only (wasm
//! callers pass `Date.now() / 1000` from JavaScript).

use crate::error::{Error, Result};

/// Seconds since the Unix epoch from the system clock (native targets only; on
/// wasm pass the time from JavaScript to the `*_at` forms).
///
/// # Errors
/// [`Error::InvalidArgument`] if the clock is before 1970 or out of range.
#[cfg(not(target_arch = "wasm32"))]
pub fn unix_now() -> Result<i64> {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|_| Error::InvalidArgument("system clock is before 1970"))?;
    i64::try_from(d.as_secs()).map_err(|_| Error::InvalidArgument("system clock out of range"))
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn unix_now_is_after_the_epoch_and_does_not_go_back() {
        let a = unix_now().unwrap();
        let b = unix_now().unwrap();
        assert!(a > 0 && b >= a);
    }
}
