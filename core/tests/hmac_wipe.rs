//! The HMAC and HKDF states core holds are wiped when dropped (ISSUE 12, finding 11).
//!
//! core's HMACs (`hmac` 0.13 over `sha2` 0.11, both with `zeroize`) and HKDFs (`hkdf`
//! 0.13, one `Hmac<Sha256>` inside) live on the stack, where a test cannot look; so this
//! test puts the same types, built with the features core turns on, in a `Box` and
//! drops it, while a spying global allocator scans the freed block for what the state
//! held: the two SHA-256 chaining values an `Hmac<Sha256>` keeps after absorbing
//! `key ^ ipad` and `key ^ opad` (as good as the key: they let anyone compute the MAC),
//! and the input bytes still pending in its block buffer (the root key, for the
//! HKDF-Extract of a root key). With hmac 0.12 / hkdf 0.12 / sha2 0.10 (no zeroize
//! support) every case below is a hit. core's `const _` check in `src/kdf.rs` says the
//! same at compile time, part by part.
//!
//! The allocator is global, so everything runs in one `#[test]` function, one case at a
//! time, each input built before a case is armed.

use hkdf::{Hkdf, HkdfExtract};
use hmac::{Hmac, KeyInit, Mac};
use sha2::block_api::compress256;
use sha2::Sha256;

/// A freed block holding this many consecutive bytes of a needle counts as a hit.
const WINDOW: usize = 16;

#[path = "support/spy.rs"]
mod spy;

#[global_allocator]
static GLOBAL: spy::Spy = spy::Spy;

/// Runs `case` armed against `needles`; returns the number of freed blocks holding one.
fn hits_while(needles: Vec<Vec<u8>>, case: impl FnOnce()) -> usize {
    spy::arm(&needles, WINDOW);
    spy::armed(case).0
}

/// SHA-256's initial state (FIPS 180-4 §5.3.3).
const IV: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// The two chaining values of `HMAC-SHA256(key, ·)` (key ≤ 64 bytes), as the state words
/// sit in memory (native endian).
fn chaining_values(key: &[u8]) -> Vec<Vec<u8>> {
    [0x36u8, 0x5c]
        .iter()
        .map(|pad| {
            let mut block = [0u8; 64];
            block[..key.len()].copy_from_slice(key);
            block.iter_mut().for_each(|b| *b ^= pad);
            let mut state = IV;
            compress256(&mut state, &[block]);
            state.iter().flat_map(|w| w.to_ne_bytes()).collect()
        })
        .collect()
}

#[test]
fn dropped_hmac_and_hkdf_states_hold_no_key() {
    let key: Vec<u8> = (0u8..32).map(|i| i.wrapping_mul(37) ^ 0xa5).collect();
    let root: Vec<u8> = b"ROOTMARK:kc-hmac-wipe!:ROOTMARK".to_vec();

    // The needles are right and the spy sees them: a state moved out of its box leaves
    // the box's block unwiped (a move is a copy; nothing is dropped there), and the
    // chaining values are found in it. (This is also why a moved-from stack slot is not
    // wiped: see ASSURANCE.md.)
    let mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    let boxed = Box::new(mac);
    let hits = hits_while(chaining_values(&key), || {
        let moved: Hmac<Sha256> = *boxed;
        std::hint::black_box(&moved);
        std::mem::forget(moved); // not dropped: only the box's block is judged
    });
    assert_eq!(
        hits, 1,
        "the spy must find the chaining values of an unwiped state"
    );

    // HMAC-SHA256 keyed by a secret (jwt, webhook, otp, pseudonym, pbkdf2's PRF).
    let mut mac = Box::new(Hmac::<Sha256>::new_from_slice(&key).unwrap());
    mac.update(b"message");
    let hits = hits_while(chaining_values(&key), || drop(mac));
    assert_eq!(
        hits, 0,
        "a dropped Hmac<Sha256> still held its chaining values"
    );

    // HKDF-Expand's state, keyed by a PRK (kdf.rs `Prk::expand`, delivery.rs).
    let hk = Box::new(Hkdf::<Sha256>::from_prk(&key).unwrap());
    let mut okm = [0u8; 64];
    hk.expand_multi_info(&[b"label", &[0], b"owner"], &mut okm)
        .unwrap();
    let hits = hits_while(chaining_values(&key), || drop(hk));
    assert_eq!(
        hits, 0,
        "a dropped Hkdf<Sha256> still held its PRK's chaining values"
    );

    // HKDF-Extract of a root key (kdf.rs `Prk::extract`): the root key waits in the
    // block buffer until the extract is finalized or dropped.
    let mut ex = Box::new(HkdfExtract::<Sha256>::new(Some(b"keycustody/v1")));
    ex.input_ikm(&root);
    let hits = hits_while(vec![root.clone()], || drop(ex));
    assert_eq!(
        hits, 0,
        "a dropped HkdfExtract<Sha256> still held the root key"
    );
}
