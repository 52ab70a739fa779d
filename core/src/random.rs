//! Randomness and tokens: OS CSPRNG only, uniform by rejection sampling.

use crate::error::{Error, Result};
use zeroize::Zeroizing;

/// The base62 alphabet, `0-9A-Za-z`.
pub const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/// The invite-code alphabet: no `0`, `1`, `I`, `O`.
pub const INVITE_ALPHABET: &[u8; 32] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
/// The largest token, in bytes or characters.
pub const MAX_TOKEN_LEN: usize = 1024;

/// Fills `buf` from the operating system's CSPRNG (`crypto.getRandomValues` on wasm).
///
/// Every call goes to the CSPRNG: nothing is drawn ahead and kept, so there is no state
/// to share between callers, and a snapshot or clone of a wasm instance's memory holds
/// no random bytes that it would hand out again (nonces under the same keys).
///
/// # Errors
/// [`Error::RandomUnavailable`].
pub fn fill_random(buf: &mut [u8]) -> Result<()> {
    getrandom::getrandom(buf).map_err(|_| Error::RandomUnavailable)
}

fn check_len(n: usize) -> Result<()> {
    if n == 0 || n > MAX_TOKEN_LEN {
        return Err(Error::InvalidArgument("length must be 1 to 1024"));
    }
    Ok(())
}

/// `nbytes` random bytes as lowercase hex (a 32-byte gateway token is 64 hex characters).
///
/// # Errors
/// [`Error::InvalidArgument`] unless `1 <= nbytes <= 1024`; [`Error::RandomUnavailable`].
pub fn random_token(nbytes: usize) -> Result<crate::SecretString> {
    check_len(nbytes)?;
    let mut raw = Zeroizing::new(vec![0u8; nbytes]);
    fill_random(&mut raw)?;
    Ok(crate::SecretString::new(base16ct::lower::encode_string(
        &raw,
    )))
}

/// `len` characters drawn uniformly from `alphabet` (2 to 128 distinct ASCII symbols) by
/// rejection sampling: a byte is used only if it falls below the largest
/// multiple of the alphabet size, so there is no modulo bias.
///
/// # Errors
/// [`Error::InvalidArgument`] for a bad length, an alphabet of fewer than 2 or more than
/// 256 symbols or with a non-ASCII or repeated symbol; [`Error::RandomUnavailable`].
pub fn random_string(alphabet: &[u8], len: usize) -> Result<crate::SecretString> {
    check_len(len)?;
    if alphabet.len() < 2 || alphabet.len() > 256 || !alphabet.is_ascii() {
        return Err(Error::InvalidArgument(
            "alphabet must be 2 to 256 ASCII symbols",
        ));
    }
    // A repeated symbol would be drawn more often than the others.
    let mut seen = [false; 128];
    for &c in alphabet {
        if core::mem::replace(&mut seen[usize::from(c)], true) {
            return Err(Error::InvalidArgument("alphabet must not repeat a symbol"));
        }
    }
    sample_with(alphabet, len, fill_random)
}

/// The sampling loop of [`random_string`] over any byte source (tests feed chosen bytes).
fn sample_with(
    alphabet: &[u8],
    len: usize,
    mut fill: impl FnMut(&mut [u8]) -> Result<()>,
) -> Result<crate::SecretString> {
    let n = alphabet.len();
    // Largest multiple of n that fits in 0..=256.
    let limit = 256 - (256 % n);
    let mut out = String::with_capacity(len);
    let mut batch = Zeroizing::new([0u8; 64]);
    let mut pos = batch.len();
    while out.len() < len {
        if pos == batch.len() {
            fill(&mut batch[..])?;
            pos = 0;
        }
        let b = usize::from(batch[pos]);
        pos += 1;
        if b < limit {
            out.push(char::from(alphabet[b % n]));
        }
    }
    Ok(crate::SecretString::new(out))
}

/// A uniform base62 token of `len` characters.
///
/// # Errors
/// As [`random_string`].
pub fn random_base62(len: usize) -> Result<crate::SecretString> {
    random_string(BASE62, len)
}

/// An invite code of `len` characters over `ABCDEFGHJKLMNPQRSTUVWXYZ23456789`.
///
/// # Errors
/// As [`random_string`].
pub fn invite_code(len: usize) -> Result<crate::SecretString> {
    random_string(INVITE_ALPHABET, len)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A byte source that replays `bytes` in 64-byte refills (then fails).
    fn replay(bytes: Vec<u8>) -> impl FnMut(&mut [u8]) -> Result<()> {
        let mut pos = 0;
        move |buf: &mut [u8]| {
            for b in buf.iter_mut() {
                *b = *bytes.get(pos).ok_or(Error::RandomUnavailable)?;
                pos += 1;
            }
            Ok(())
        }
    }

    #[test]
    fn fill_random_is_not_constant() {
        let (mut a, mut b) = ([0u8; 12], [0u8; 12]);
        fill_random(&mut a).unwrap();
        fill_random(&mut b).unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn base62_rejects_exactly_the_biased_tail() {
        // 256 % 62 = 8: bytes 248..=255 would favour '0'..'7', so they are skipped.
        let mut bytes: Vec<u8> = (248..=255).collect();
        bytes.extend([0, 61, 62, 123, 124, 247]);
        bytes.resize(64, 0);
        let s = sample_with(BASE62, 6, replay(bytes)).unwrap();
        assert_eq!(s.expose_secret(), "0z0z0z");
    }

    #[test]
    fn every_accepted_byte_maps_uniformly() {
        // Over one full pass of 0..=255, each base62 symbol appears exactly 4 times
        // (248 accepted bytes / 62), and each invite symbol exactly 8 times.
        let bytes: Vec<u8> = (0..=255).collect();
        let s = sample_with(BASE62, 248, replay(bytes.clone())).unwrap();
        for c in BASE62 {
            assert_eq!(s.expose_secret().bytes().filter(|x| x == c).count(), 4);
        }
        let s = sample_with(INVITE_ALPHABET, 256, replay(bytes)).unwrap();
        for c in INVITE_ALPHABET {
            assert_eq!(s.expose_secret().bytes().filter(|x| x == c).count(), 8);
        }
    }

    #[test]
    fn refills_when_the_pool_is_all_rejected() {
        let mut bytes = vec![255u8; 64];
        bytes.extend([10u8; 64]);
        let s = sample_with(BASE62, 3, replay(bytes)).unwrap();
        assert_eq!(s.expose_secret(), "AAA");
    }

    #[test]
    fn source_failure_is_random_unavailable() {
        assert_eq!(
            sample_with(BASE62, 3, replay(vec![255; 64])).unwrap_err(),
            Error::RandomUnavailable
        );
    }

    #[test]
    fn power_of_two_alphabet_rejects_nothing() {
        let bytes: Vec<u8> = (0..64).map(|i| 255 - i).collect();
        let s = sample_with(INVITE_ALPHABET, 64, replay(bytes)).unwrap();
        assert_eq!(s.len(), 64);
    }

    #[test]
    fn duplicate_symbols_are_refused() {
        // "aab" would draw 'a' twice as often as 'b': not uniform over its symbols.
        for alpha in [&b"aab"[..], b"abca", b"01234567890", &[b'x'; 200]] {
            assert_eq!(
                random_string(alpha, 8).map(|_| ()),
                Err(Error::InvalidArgument("alphabet must not repeat a symbol")),
            );
        }
        assert_eq!(random_string(b"ab", 8).unwrap().len(), 8);
    }

    #[test]
    fn alphabet_and_length_limits() {
        for (alpha, len) in [(&b"a"[..], 5), (b"ab", 0), (b"ab", MAX_TOKEN_LEN + 1)] {
            assert!(matches!(
                random_string(alpha, len),
                Err(Error::InvalidArgument(_))
            ));
        }
        assert!(matches!(
            random_string("é".as_bytes(), 4),
            Err(Error::InvalidArgument(_))
        ));
        let all: Vec<u8> = (0..=255).collect();
        assert!(matches!(
            random_string(&all, 4),
            Err(Error::InvalidArgument(_))
        ));
        assert_eq!(
            random_string(b"ab", MAX_TOKEN_LEN).unwrap().len(),
            MAX_TOKEN_LEN
        );
    }
}
