//! Software AES-256-GCM for targets without AES instructions (wasm32 above all).
//!
//! AES is the fixsliced, fully bitsliced AES-256 of RustCrypto's `aes` crate 0.9.4
//! (Adomnicai and Peyrin, <https://eprint.iacr.org/2020/1123.pdf>; original C code by
//! Alexandre Adomnicai, relicensed MIT/Apache-2.0 with permission), vendored here with
//! its decryption, AES-128/192 and compact variants removed: [`sbox`] and
//! [`mix_columns`] are unchanged, and the key schedule and encryption below are the
//! crate's `aes256.rs` for the non-compact build. It has no table lookups and no
//! secret-dependent branches or indices. GHASH ([`ghash`]) is BearSSL's constant-time
//! `ghash_ctmul64` with the key-side values computed once per key.
//!
//! Why not `aes-gcm` itself: that crate keeps the round keys of one block, and on every
//! call widens all 120 of them to the batch width and runs the tag block (`E(K, J0)`)
//! as a batch of its own. A 64-byte seal thus ran the cipher three times. Here the round
//! keys are kept widened ([`Gcm::new`] runs once per key), and a call encrypts the tag
//! block in the same batch as the first counter blocks: with 128-bit SIMD on wasm32
//! (`simd128`, [`Lanes2`]), one batch is 8 blocks, so a value of up to 112 bytes takes
//! one pass of the cipher.
//!
//! Correctness is checked from outside: NIST and Wycheproof AES-GCM vectors, byte
//! comparison with `ring` and with RustCrypto `aes-gcm` over random keys, nonces and
//! lengths (the two-lane word both in its wasm SIMD form, through the wasm package, and
//! in its portable form, natively).

mod gcm;
mod ghash;
mod mix_columns;
mod sbox;
mod word;

pub(crate) use gcm::Gcm;
use word::Word;
#[cfg(test)]
use word::{Lanes2, Portable2};

use mix_columns::{mix_columns_0, mix_columns_1, mix_columns_2, mix_columns_3};
use sbox::{sub_bytes, sub_bytes_nots};

/// A bitsliced state: 8 rows of one word.
type State<W> = [W; 8];

/// AES-256 round keys, fixsliced, in 64-bit words (a wider word takes each in every lane).
pub(crate) type RoundKeys = [u64; 120];

#[inline(always)]
fn delta_swap_1<W: Word>(a: &mut W, shift: u32, mask: W) {
    let t = (*a ^ ((*a) >> shift)) & mask;
    *a ^= t ^ (t << shift);
}

/// Applies ShiftRows once on an AES state (or key).
#[inline]
fn shift_rows_1<W: Word>(state: &mut [W]) {
    for x in state.iter_mut() {
        delta_swap_1(x, W::HALF_ROW, W::pack_rows(0x0, 0x1, 0x3, 0x2));
        delta_swap_1(x, W::QUARTER_ROW, W::pack_rows(0x0, 0x5, 0x0, 0x5));
    }
}

/// Applies ShiftRows twice on an AES state (or key).
#[inline]
fn shift_rows_2<W: Word>(state: &mut [W]) {
    for x in state.iter_mut() {
        delta_swap_1(x, W::HALF_ROW, W::pack_rows(0x0, 0x3, 0x0, 0x3));
    }
}

/// Applies ShiftRows three times on an AES state (or key).
#[inline]
fn shift_rows_3<W: Word>(state: &mut [W]) {
    for x in state.iter_mut() {
        delta_swap_1(x, W::HALF_ROW, W::pack_rows(0x0, 0x2, 0x3, 0x1));
        delta_swap_1(x, W::QUARTER_ROW, W::pack_rows(0x0, 0x5, 0x0, 0x5));
    }
}

/// XOR the columns after the S-box during the key schedule round function.
fn xor_columns(rkeys: &mut [u64], offset: usize, idx_xor: usize, idx_ror: u32) {
    for i in 0..8 {
        let off_i = offset + i;
        let rk = rkeys[off_i - idx_xor] ^ (u64::uniform_row(0x1) & rkeys[off_i].ror(idx_ror));
        rkeys[off_i] = rk
            ^ (u64::uniform_row(0xe) & (rk << u64::QUARTER_ROW))
            ^ (u64::uniform_row(0xc) & (rk << u64::HALF_ROW))
            ^ (u64::uniform_row(0x8) & (rk << (3 * u64::QUARTER_ROW)));
    }
}

/// Copy 32 bytes within the provided slice to an 8-word offset.
fn memshift32(buffer: &mut [u64], src_offset: usize) {
    let dst_offset = src_offset + 8;
    for i in (0..8).rev() {
        buffer[dst_offset + i] = buffer[src_offset + i];
    }
}

/// XOR the round key into the internal state.
#[inline(always)]
fn add_round_key<W: Word>(state: &mut State<W>, rkey: &[W]) {
    for (a, b) in state.iter_mut().zip(rkey) {
        *a ^= *b;
    }
}

/// Round keys in the word of a batch: each 64-bit key word in every lane. Wiped on drop.
pub(crate) struct WideKeys<W: Word>(Box<[W; 120]>);

impl<W: Word> WideKeys<W> {
    pub(crate) fn new(rk: &RoundKeys) -> WideKeys<W> {
        let mut wide = Box::new([W::default(); 120]);
        for (w, k) in wide.iter_mut().zip(rk) {
            *w = W::splat(*k);
        }
        WideKeys(wide)
    }
}

impl<W: Word> Drop for WideKeys<W> {
    fn drop(&mut self) {
        W::wipe(&mut self.0[..]);
    }
}

/// The fully bitsliced AES-256 key schedule, in the fully fixsliced representation.
///
/// The caller wipes the result (it is the expanded key).
pub(crate) fn key_schedule(key: &[u8; 32], rkeys: &mut RoundKeys) {
    let mut lo = [[0u8; 16]; 4];
    let mut hi = [[0u8; 16]; 4];
    for b in &mut lo {
        b.copy_from_slice(&key[..16]);
    }
    for b in &mut hi {
        b.copy_from_slice(&key[16..]);
    }
    let mut first = [0u64; 8];
    u64::bitslice(&mut first, &lo);
    rkeys[..8].copy_from_slice(&first);
    u64::bitslice(&mut first, &hi);
    rkeys[8..16].copy_from_slice(&first);
    zeroize::Zeroize::zeroize(&mut first);
    zeroize::Zeroize::zeroize(&mut lo);
    zeroize::Zeroize::zeroize(&mut hi);

    let mut rk_off = 8;
    let mut rcon = 0;
    loop {
        memshift32(rkeys, rk_off);
        rk_off += 8;

        sub_bytes(&mut rkeys[rk_off..(rk_off + 8)]);
        sub_bytes_nots(&mut rkeys[rk_off..(rk_off + 8)]);

        rkeys[rk_off + rcon] ^= u64::pack_rows(0x0, 0x8, 0x0, 0x0);
        xor_columns(rkeys, rk_off, 16, u64::ror_distance(1, 3));
        rcon += 1;

        if rcon == 7 {
            break;
        }

        memshift32(rkeys, rk_off);
        rk_off += 8;

        sub_bytes(&mut rkeys[rk_off..(rk_off + 8)]);
        sub_bytes_nots(&mut rkeys[rk_off..(rk_off + 8)]);

        xor_columns(rkeys, rk_off, 16, u64::ror_distance(0, 3));
    }

    // Adjust to match the fixslicing format.
    for i in (8..104).step_by(32) {
        shift_rows_3(&mut rkeys[i..(i + 8)]); // inverse of one ShiftRows
        shift_rows_2(&mut rkeys[(i + 8)..(i + 16)]); // its own inverse
        shift_rows_1(&mut rkeys[(i + 16)..(i + 24)]); // inverse of three
    }
    shift_rows_3(&mut rkeys[104..112]);

    // Account for NOTs removed from sub_bytes.
    for i in 1..15 {
        sub_bytes_nots(&mut rkeys[(i * 8)..(i * 8 + 8)]);
    }
}

/// Fully fixsliced AES-256 encryption of `W::BLOCKS` blocks in parallel (ShiftRows omitted).
pub(crate) fn encrypt<W: Word>(keys: &WideKeys<W>, blocks: &mut [[u8; 16]]) {
    let rkeys = &*keys.0;
    let mut state = State::<W>::default();

    W::bitslice(&mut state, blocks);

    add_round_key(&mut state, &rkeys[..8]);

    let mut rk_off = 8;
    loop {
        sub_bytes(&mut state);
        mix_columns_1(&mut state);
        add_round_key(&mut state, &rkeys[rk_off..(rk_off + 8)]);
        rk_off += 8;

        if rk_off == 112 {
            break;
        }

        sub_bytes(&mut state);
        mix_columns_2(&mut state);
        add_round_key(&mut state, &rkeys[rk_off..(rk_off + 8)]);
        rk_off += 8;

        sub_bytes(&mut state);
        mix_columns_3(&mut state);
        add_round_key(&mut state, &rkeys[rk_off..(rk_off + 8)]);
        rk_off += 8;

        sub_bytes(&mut state);
        mix_columns_0(&mut state);
        add_round_key(&mut state, &rkeys[rk_off..(rk_off + 8)]);
        rk_off += 8;
    }

    shift_rows_2(&mut state);

    sub_bytes(&mut state);
    add_round_key(&mut state, &rkeys[112..]);

    W::inv_bitslice(&state, blocks);
    W::wipe(&mut state);
}

#[cfg(test)]
mod tests {
    use super::*;
    use aes::cipher::{BlockCipherEncrypt, KeyInit};
    use proptest::prelude::*;

    fn ours<W: Word>(key: &[u8; 32], blocks: &[[u8; 16]]) -> Vec<[u8; 16]> {
        let mut rk = [0u64; 120];
        key_schedule(key, &mut rk);
        let keys = WideKeys::<W>::new(&rk);
        let mut out = Vec::new();
        for chunk in blocks.chunks(W::BLOCKS) {
            let mut batch = vec![[0u8; 16]; W::BLOCKS];
            batch[..chunk.len()].copy_from_slice(chunk);
            encrypt::<W>(&keys, &mut batch);
            out.extend_from_slice(&batch[..chunk.len()]);
        }
        out
    }

    fn reference(key: &[u8; 32], blocks: &[[u8; 16]]) -> Vec<[u8; 16]> {
        let c = aes::Aes256::new(key.into());
        blocks
            .iter()
            .map(|b| {
                let mut b = aes::Block::from(*b);
                c.encrypt_block(&mut b);
                b.into()
            })
            .collect()
    }

    fn unhex<const N: usize>(s: &str) -> [u8; N] {
        let v = hex::decode(s).unwrap();
        v.try_into().unwrap()
    }

    /// FIPS-197 Appendix C.3 (AES-256), in every lane of every word width.
    #[test]
    fn fips197_c3() {
        let key: [u8; 32] =
            unhex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
        let pt: [u8; 16] = unhex("00112233445566778899aabbccddeeff");
        let ct: [u8; 16] = unhex("8ea2b7ca516745bfeafc49904b496089");
        for n in 1..=8 {
            let blocks = vec![pt; n];
            assert!(ours::<u64>(&key, &blocks).iter().all(|b| *b == ct));
            assert!(ours::<Portable2>(&key, &blocks).iter().all(|b| *b == ct));
            assert!(ours::<Lanes2>(&key, &blocks).iter().all(|b| *b == ct));
        }
    }

    /// A changed key or block changes the output (the tests above cannot pass on a constant).
    #[test]
    fn differs_with_key_and_block() {
        let key = [7u8; 32];
        let mut key2 = key;
        key2[31] ^= 1;
        let blocks = [[1u8; 16], [2u8; 16], [1u8; 16], [3u8; 16]];
        let a = ours::<u64>(&key, &blocks);
        assert_ne!(a, ours::<u64>(&key2, &blocks));
        assert_ne!(a[0], a[1]);
        assert_eq!(a[0], a[2]);
    }

    proptest! {
        /// Byte-equal with RustCrypto `aes` for random keys and 1 to 17 blocks, for the
        /// 4-block word and both forms of the 8-block word (blocks in every lane position).
        #[test]
        fn matches_aes_crate(key in any::<[u8; 32]>(), blocks in prop::collection::vec(any::<[u8; 16]>(), 1..17)) {
            let want = reference(&key, &blocks);
            prop_assert_eq!(&ours::<u64>(&key, &blocks), &want);
            prop_assert_eq!(&ours::<Portable2>(&key, &blocks), &want);
            prop_assert_eq!(&ours::<Lanes2>(&key, &blocks), &want);
        }
    }
}
