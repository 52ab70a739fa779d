//! Randomness and tokens: OS CSPRNG only, uniform by rejection sampling.

use crate::error::{Error, Result};
use zeroize::{Zeroize, Zeroizing};

/// The base62 alphabet, `0-9A-Za-z`.
pub const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/// The invite-code alphabet: no `0`, `1`, `I`, `O`.
pub const INVITE_ALPHABET: &[u8; 32] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
/// The largest token, in bytes or characters.
pub const MAX_TOKEN_LEN: usize = 1024;

/// Fills `buf` from the operating system's CSPRNG (`crypto.getRandomValues` on wasm).
///
/// On wasm32, requests of up to [`POOL_MAX_REQUEST`] bytes (nonces, salts) are served from a
/// per-thread buffer of CSPRNG output that is refilled 1024 bytes at a time: in a browser each
/// `getRandomValues` call costs microseconds, several times the AES-GCM work of a small
/// envelope. Each buffered byte is handed out once and wiped as it is taken.
///
/// # Errors
/// [`Error::RandomUnavailable`].
pub fn fill_random(buf: &mut [u8]) -> Result<()> {
    #[cfg(target_arch = "wasm32")]
    {
        // A re-entrant call (a getRandomValues polyfill calling back into this module) finds
        // the pool borrowed and goes to the CSPRNG directly, rather than panicking.
        POOL.with(|p| match p.try_borrow_mut() {
            Ok(mut pool) => pool.take(buf, os_random),
            Err(_) => os_random(buf),
        })
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        os_random(buf)
    }
}

fn os_random(buf: &mut [u8]) -> Result<()> {
    getrandom::getrandom(buf).map_err(|_| Error::RandomUnavailable)
}

/// The largest request served from the wasm32 randomness buffer; larger ones (keys,
/// tokens) go to the CSPRNG directly.
pub const POOL_MAX_REQUEST: usize = 16;
const POOL_LEN: usize = 1024;

#[cfg(target_arch = "wasm32")]
thread_local! {
    static POOL: core::cell::RefCell<Pool> = core::cell::RefCell::new(Pool::new());
}

/// A buffer of CSPRNG output: bytes are taken front to back, each once, and wiped when taken.
struct Pool {
    buf: Zeroizing<[u8; POOL_LEN]>,
    // Bytes before `pos` have been handed out (and wiped); `POOL_LEN` means empty.
    pos: usize,
}

impl Pool {
    #[cfg_attr(not(any(test, target_arch = "wasm32")), allow(dead_code))]
    fn new() -> Pool {
        Pool {
            buf: Zeroizing::new([0u8; POOL_LEN]),
            pos: POOL_LEN,
        }
    }

    #[cfg_attr(not(any(test, target_arch = "wasm32")), allow(dead_code))]
    fn take(
        &mut self,
        out: &mut [u8],
        mut source: impl FnMut(&mut [u8]) -> Result<()>,
    ) -> Result<()> {
        if out.len() > POOL_MAX_REQUEST {
            return source(out);
        }
        if POOL_LEN - self.pos < out.len() {
            // The leftover tail is discarded, never reused.
            self.pos = POOL_LEN;
            if let Err(e) = source(&mut self.buf[..]) {
                self.buf.zeroize();
                return Err(e);
            }
            self.pos = 0;
        }
        let end = self.pos + out.len();
        out.copy_from_slice(&self.buf[self.pos..end]);
        self.buf[self.pos..end].zeroize();
        self.pos = end;
        Ok(())
    }
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
    let mut out = String::with_capacity(nbytes * 2);
    for b in raw.iter() {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    Ok(crate::SecretString::new(out))
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// `len` characters drawn uniformly from `alphabet` (at most 256 symbols) by
/// rejection sampling: a byte is used only if it falls below the largest
/// multiple of the alphabet size, so there is no modulo bias.
///
/// # Errors
/// [`Error::InvalidArgument`] for a bad length or alphabet; [`Error::RandomUnavailable`].
pub fn random_string(alphabet: &[u8], len: usize) -> Result<crate::SecretString> {
    check_len(len)?;
    if alphabet.len() < 2 || alphabet.len() > 256 || !alphabet.is_ascii() {
        return Err(Error::InvalidArgument(
            "alphabet must be 2 to 256 ASCII symbols",
        ));
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
    let mut pool = Zeroizing::new([0u8; 64]);
    let mut pos = pool.len();
    while out.len() < len {
        if pos == pool.len() {
            fill(&mut pool[..])?;
            pos = 0;
        }
        let b = usize::from(pool[pos]);
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

    /// A source that counts up from `next`, and fails once `fail_at` refills have been made.
    fn counter(fail_at: usize) -> impl FnMut(&mut [u8]) -> Result<()> {
        let (mut next, mut calls) = (0u8, 0usize);
        move |buf: &mut [u8]| {
            calls += 1;
            if calls > fail_at {
                return Err(Error::RandomUnavailable);
            }
            for b in buf.iter_mut() {
                *b = next;
                next = next.wrapping_add(1);
            }
            Ok(())
        }
    }

    #[test]
    fn pool_hands_out_each_byte_once_in_order_and_wipes_it() {
        let mut pool = Pool::new();
        let mut src = counter(usize::MAX);
        let mut seen = Vec::new();
        // 85 nonces of 12 bytes use 1020 bytes of the first refill; the 86th needs a refill,
        // which discards the 4 leftover bytes (1020..=1023) rather than reusing them.
        let per_refill = POOL_LEN / 12;
        assert_eq!((per_refill, POOL_LEN % 12), (85, 4));
        for i in 0..=per_refill {
            let mut n = [0u8; 12];
            pool.take(&mut n, &mut src).unwrap();
            if i < per_refill {
                assert!(
                    pool.buf[..pool.pos].iter().all(|&b| b == 0),
                    "taken bytes are wiped"
                );
            }
            seen.extend_from_slice(&n);
        }
        let want: Vec<u8> = (0..1020u32).chain(1024..1036).map(|b| b as u8).collect();
        assert_eq!(seen, want);
    }

    #[test]
    fn pool_sends_large_requests_to_the_source() {
        let mut pool = Pool::new();
        let mut src = counter(usize::MAX);
        let mut key = [0u8; POOL_MAX_REQUEST + 1];
        pool.take(&mut key, &mut src).unwrap();
        assert_eq!(key.to_vec(), (0..=16u8).collect::<Vec<_>>());
        assert_eq!(pool.pos, POOL_LEN, "the pool was not filled");
    }

    #[test]
    fn pool_source_failure_is_an_error_and_leaves_nothing_behind() {
        let mut pool = Pool::new();
        let mut src = counter(1);
        let mut n = [0u8; 12];
        for _ in 0..POOL_LEN / 12 {
            pool.take(&mut n, &mut src).unwrap();
        }
        assert_eq!(pool.take(&mut n, &mut src), Err(Error::RandomUnavailable));
        assert_eq!(pool.pos, POOL_LEN);
        assert!(pool.buf.iter().all(|&b| b == 0));
        // And it keeps failing rather than handing out stale bytes.
        assert_eq!(pool.take(&mut n, &mut src), Err(Error::RandomUnavailable));
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
