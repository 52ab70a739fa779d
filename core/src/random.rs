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
    let n = alphabet.len();
    // Largest multiple of n that fits in 0..=256.
    let limit = 256 - (256 % n);
    let mut out = String::with_capacity(len);
    let mut pool = Zeroizing::new([0u8; 64]);
    let mut pos = pool.len();
    while out.len() < len {
        if pos == pool.len() {
            fill_random(&mut pool[..])?;
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
