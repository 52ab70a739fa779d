//! Constant-time comparison.

use subtle::ConstantTimeEq;

/// Compares two byte strings without short-circuiting on their content.
///
/// Returns `false` when the lengths differ, in time that depends only on the
/// lengths; otherwise the time depends only on the (common) length.
#[must_use]
pub fn constant_time_equal(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.ct_eq(b).into()
}
