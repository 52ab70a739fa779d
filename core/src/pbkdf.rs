//! PBKDF2-HMAC-SHA256 (RFC 8018 §5.2), for the legacy readers.
//!
//! Legacy import is dominated by this function (100,000 iterations per value), so its loop
//! runs on SHA-256's compression function directly: the HMAC key's inner and outer states
//! are computed once, and each iteration is then exactly two compressions of one block
//! (`U || padding`; both HMAC messages are 64 + 32 = 96 bytes, so both blocks carry the same
//! padding). The first block of each output chunk, `U_1 = HMAC(P, S || INT(i))`, goes
//! through the `hmac` crate. Checked against the RFC 7914 §11 vectors and, differentially,
//! the `pbkdf2` crate (fixed cases and a property test below).

use crate::error::{Error, Result};
use hmac::{Hmac, Mac};
use sha2::digest::generic_array::GenericArray;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// SHA-256's initial hash value (FIPS 180-4 §5.3.3).
const IV: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

fn compress(state: &mut [u32; 8], block: &[u8; 64]) {
    sha2::compress256(
        state,
        core::slice::from_ref(GenericArray::from_slice(block)),
    );
}

/// Writes a SHA-256 state as its 32-byte big-endian digest.
fn store(state: &[u32; 8], out: &mut [u8]) {
    for (o, w) in out.chunks_exact_mut(4).zip(state) {
        o.copy_from_slice(&w.to_be_bytes());
    }
}

/// Fills `out` with `PBKDF2-HMAC-SHA256(password, salt, iterations)`.
///
/// # Errors
/// [`Error::InvalidArgument`] for zero iterations or an output longer than the
/// 32 × (2³² − 1) bytes of RFC 8018.
pub(crate) fn pbkdf2_sha256(
    password: &[u8],
    salt: &[u8],
    iterations: u32,
    out: &mut [u8],
) -> Result<()> {
    if iterations == 0 {
        return Err(Error::InvalidArgument("iterations must be at least 1"));
    }
    let blocks = u32::try_from(out.len().div_ceil(32))
        .map_err(|_| Error::InvalidArgument("PBKDF2 output too long"))?;
    if blocks == u32::MAX {
        return Err(Error::InvalidArgument("PBKDF2 output too long"));
    }
    // The HMAC key block: the password, hashed first if longer than a block, zero-padded.
    let mut key = Zeroizing::new([0u8; 64]);
    if password.len() > 64 {
        key[..32].copy_from_slice(&Sha256::digest(password));
    } else {
        key[..password.len()].copy_from_slice(password);
    }
    let mut pad = Zeroizing::new([0u8; 64]);
    let mut inner = Zeroizing::new(IV);
    let mut outer = Zeroizing::new(IV);
    for (p, k) in pad.iter_mut().zip(key.iter()) {
        *p = k ^ 0x36;
    }
    compress(&mut inner, &pad);
    for (p, k) in pad.iter_mut().zip(key.iter()) {
        *p = k ^ 0x5c;
    }
    compress(&mut outer, &pad);

    // One block: U (32 bytes), 0x80, zeros, then the message length in bits (96 * 8 = 768).
    let mut block = Zeroizing::new([0u8; 64]);
    block[32] = 0x80;
    block[62..].copy_from_slice(&768u16.to_be_bytes());
    let mut state = Zeroizing::new([0u32; 8]);
    let mut t = Zeroizing::new([0u8; 32]);
    for (chunk, index) in out.chunks_mut(32).zip(1u32..) {
        // HMAC takes keys of any length: this error cannot happen.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(password)
            .map_err(|_| Error::InvalidArgument("password"))?;
        mac.update(salt);
        mac.update(&index.to_be_bytes());
        block[..32].copy_from_slice(&mac.finalize().into_bytes());
        t.copy_from_slice(&block[..32]);
        for _ in 1..iterations {
            *state = *inner;
            compress(&mut state, &block);
            store(&state, &mut block[..32]);
            *state = *outer;
            compress(&mut state, &block);
            store(&state, &mut block[..32]);
            for (a, b) in t.iter_mut().zip(&block[..32]) {
                *a ^= b;
            }
        }
        chunk.copy_from_slice(&t[..chunk.len()]);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn rfc7914_vectors() {
        // RFC 7914 §11: PBKDF2-HMAC-SHA256 test vectors.
        let mut out = [0u8; 64];
        pbkdf2_sha256(b"passwd", b"salt", 1, &mut out).unwrap();
        assert_eq!(
            hex(&out),
            "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc\
             49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783"
        );
        pbkdf2_sha256(b"Password", b"NaCl", 80000, &mut out).unwrap();
        assert_eq!(
            hex(&out),
            "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56\
             a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d"
        );
    }

    proptest::proptest! {
        #[test]
        fn agrees_with_the_pbkdf2_crate_on_any_input(
            pw in proptest::collection::vec(proptest::num::u8::ANY, 0..150),
            salt in proptest::collection::vec(proptest::num::u8::ANY, 0..80),
            iters in 1u32..20,
            out_len in 1usize..100,
        ) {
            let mut ours = vec![0u8; out_len];
            let mut theirs = vec![0u8; out_len];
            pbkdf2_sha256(&pw, &salt, iters, &mut ours).unwrap();
            pbkdf2::pbkdf2_hmac::<Sha256>(&pw, &salt, iters, &mut theirs);
            proptest::prop_assert_eq!(ours, theirs);
        }
    }

    #[test]
    fn zero_iterations_is_an_error_and_writes_nothing() {
        let mut out = [7u8; 32];
        assert!(matches!(
            pbkdf2_sha256(b"pw", b"salt", 0, &mut out),
            Err(Error::InvalidArgument(_))
        ));
        assert_eq!(out, [7u8; 32]);
    }

    #[test]
    fn agrees_with_the_pbkdf2_crate() {
        // Passwords around the 64-byte block (hashed beyond it), outputs of 1 to 3 blocks
        // with partial last blocks, and small and large iteration counts.
        for (pw_len, salt_len, iters, out_len) in [
            (0, 0, 1, 32),
            (1, 8, 2, 1),
            (63, 16, 3, 31),
            (64, 16, 17, 33),
            (65, 32, 5, 48),
            (200, 64, 1000, 96),
            (15, 16, 100_000, 32),
        ] {
            let pw: Vec<u8> = (0..pw_len).map(|i| (i * 7 + 3) as u8).collect();
            let salt: Vec<u8> = (0..salt_len).map(|i| (i * 13 + 1) as u8).collect();
            let mut ours = vec![0u8; out_len];
            let mut theirs = vec![0u8; out_len];
            pbkdf2_sha256(&pw, &salt, iters, &mut ours).unwrap();
            pbkdf2::pbkdf2_hmac::<Sha256>(&pw, &salt, iters, &mut theirs);
            assert_eq!(
                ours, theirs,
                "pw {pw_len} salt {salt_len} iters {iters} out {out_len}"
            );
        }
    }
}
