//! GHASH (NIST SP 800-38D §6.4) in constant time, for [`super::Gcm`].
//!
//! The multiplication is BearSSL's `ghash_ctmul64.c` (Thomas Pornin, MIT licence): a
//! 128x128 carry-less product by Karatsuba over 64-bit halves, each 64x64 product by
//! integer multiplications on operands masked to every fourth bit (so that carries
//! cannot reach a kept bit), and the high halves through bit reversal. Integer
//! multiplication is constant-time on every target keycustody supports (wasm32 `i64.mul`
//! included). Here the key-side values (the halves of `H`, their XOR, their bit reversals,
//! and each of those split into its four bit classes) are computed once per key, which
//! `RustCrypto`'s `ghash`/`polyval` (the same algorithm) recompute on every block.

use zeroize::Zeroize;

const M0: u64 = 0x1111_1111_1111_1111;
const M1: u64 = 0x2222_2222_2222_2222;
const M2: u64 = 0x4444_4444_4444_4444;
const M3: u64 = 0x8888_8888_8888_8888;

/// A GHASH key: the six Karatsuba operands of `H`, each split into its four bit classes.
/// Wiped on drop.
pub(crate) struct GHashKey {
    /// `[h0, h1, h0 ^ h1, rev(h0), rev(h1), rev(h0) ^ rev(h1)]`, each as `[x & M0, x & M1,
    /// x & M2, x & M3]`.
    h: [[u64; 4]; 6],
}

impl Drop for GHashKey {
    fn drop(&mut self) {
        self.h.zeroize();
    }
}

/// A running GHASH: the accumulator `Y` (big-endian halves `y1 || y0`).
#[derive(Clone, Copy, Default)]
pub(crate) struct GHashState {
    y0: u64,
    y1: u64,
}

/// `x` split into its four bit classes.
#[inline(always)]
fn split(x: u64) -> [u64; 4] {
    [x & M0, x & M1, x & M2, x & M3]
}

/// The low 64 bits of the carry-less product of `x` and the (split) `y`.
#[inline(always)]
fn bmul64(x: u64, y: &[u64; 4]) -> u64 {
    let [x0, x1, x2, x3] = split(x);
    let [y0, y1, y2, y3] = *y;
    let z0 = x0.wrapping_mul(y0) ^ x1.wrapping_mul(y3) ^ x2.wrapping_mul(y2) ^ x3.wrapping_mul(y1);
    let z1 = x0.wrapping_mul(y1) ^ x1.wrapping_mul(y0) ^ x2.wrapping_mul(y3) ^ x3.wrapping_mul(y2);
    let z2 = x0.wrapping_mul(y2) ^ x1.wrapping_mul(y1) ^ x2.wrapping_mul(y0) ^ x3.wrapping_mul(y3);
    let z3 = x0.wrapping_mul(y3) ^ x1.wrapping_mul(y2) ^ x2.wrapping_mul(y1) ^ x3.wrapping_mul(y0);
    (z0 & M0) | (z1 & M1) | (z2 & M2) | (z3 & M3)
}

impl GHashKey {
    /// The key for `H = E(K, 0^128)`.
    pub(crate) fn new(h: &[u8; 16]) -> GHashKey {
        let (hi, lo) = h.split_at(8);
        let mut h1 = be64(hi);
        let mut h0 = be64(lo);
        let h0r = h0.reverse_bits();
        let h1r = h1.reverse_bits();
        let key = GHashKey {
            h: [
                split(h0),
                split(h1),
                split(h0 ^ h1),
                split(h0r),
                split(h1r),
                split(h0r ^ h1r),
            ],
        };
        h0.zeroize();
        h1.zeroize();
        key
    }

    /// Absorbs one block: `Y = (Y ^ X) * H`.
    #[inline]
    pub(crate) fn block(&self, st: &mut GHashState, x: &[u8; 16]) {
        let (hi, lo) = x.split_at(8);
        let y1 = st.y1 ^ be64(hi);
        let y0 = st.y0 ^ be64(lo);
        let y0r = y0.reverse_bits();
        let y1r = y1.reverse_bits();
        let y2 = y0 ^ y1;
        let y2r = y0r ^ y1r;

        let z0 = bmul64(y0, &self.h[0]);
        let z1 = bmul64(y1, &self.h[1]);
        let mut z2 = bmul64(y2, &self.h[2]);
        let mut z0h = bmul64(y0r, &self.h[3]);
        let mut z1h = bmul64(y1r, &self.h[4]);
        let mut z2h = bmul64(y2r, &self.h[5]);

        z2 ^= z0 ^ z1;
        z2h ^= z0h ^ z1h;
        z0h = z0h.reverse_bits() >> 1;
        z1h = z1h.reverse_bits() >> 1;
        z2h = z2h.reverse_bits() >> 1;

        let v0 = z0;
        let mut v1 = z0h ^ z2;
        let mut v2 = z1 ^ z2h;
        let mut v3 = z1h;

        // The product is bit-reflected: shift it left by one, then reduce modulo
        // x^128 + x^7 + x^2 + x + 1.
        v3 = (v3 << 1) | (v2 >> 63);
        v2 = (v2 << 1) | (v1 >> 63);
        v1 = (v1 << 1) | (v0 >> 63);
        let v0 = v0 << 1;

        v2 ^= v0 ^ (v0 >> 1) ^ (v0 >> 2) ^ (v0 >> 7);
        v1 ^= (v0 << 63) ^ (v0 << 62) ^ (v0 << 57);
        v3 ^= v1 ^ (v1 >> 1) ^ (v1 >> 2) ^ (v1 >> 7);
        v2 ^= (v1 << 63) ^ (v1 << 62) ^ (v1 << 57);

        st.y0 = v2;
        st.y1 = v3;
    }

    /// Absorbs `data`, the last partial block padded with zeros.
    pub(crate) fn padded(&self, st: &mut GHashState, data: &[u8]) {
        let mut chunks = data.chunks_exact(16);
        for c in &mut chunks {
            let mut b = [0u8; 16];
            b.copy_from_slice(c);
            self.block(st, &b);
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut b = [0u8; 16];
            b[..rest.len()].copy_from_slice(rest);
            self.block(st, &b);
            b.zeroize();
        }
    }
}

impl GHashState {
    /// The 16-byte GHASH value.
    pub(crate) fn bytes(&self) -> [u8; 16] {
        let mut out = [0u8; 16];
        out[..8].copy_from_slice(&self.y1.to_be_bytes());
        out[8..].copy_from_slice(&self.y0.to_be_bytes());
        out
    }
}

#[inline(always)]
fn be64(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    u64::from_be_bytes(a)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ghash::universal_hash::UniversalHash;
    use proptest::prelude::*;

    fn ours(h: &[u8; 16], data: &[u8]) -> [u8; 16] {
        let k = GHashKey::new(h);
        let mut st = GHashState::default();
        k.padded(&mut st, data);
        st.bytes()
    }

    fn reference(h: &[u8; 16], data: &[u8]) -> [u8; 16] {
        let mut g = ghash::GHash::new(h.into());
        g.update_padded(data);
        g.finalize().into()
    }

    /// NIST GCM test case 2's GHASH: H = 66e94bd4ef8a2c3b884cfa59ca342b2e, C =
    /// 0388dace60b6a392f328c2b971b2fe78, len block 0..0 || 0x80 (McGrew-Viega).
    #[test]
    fn nist_test_case_2() {
        let h: [u8; 16] = hex::decode("66e94bd4ef8a2c3b884cfa59ca342b2e")
            .unwrap()
            .try_into()
            .unwrap();
        let mut data = hex::decode("0388dace60b6a392f328c2b971b2fe78").unwrap();
        data.extend_from_slice(&hex::decode("00000000000000000000000000000080").unwrap());
        assert_eq!(
            hex::encode(ours(&h, &data)),
            "f38cbb1ad69223dcc3457ae5b6b0f885"
        );
    }

    proptest! {
        /// Equal to RustCrypto `ghash` for random keys and data of any length.
        #[test]
        fn matches_ghash_crate(h in any::<[u8; 16]>(), data in prop::collection::vec(any::<u8>(), 0..200)) {
            prop_assert_eq!(ours(&h, &data), reference(&h, &data));
        }
    }
}
