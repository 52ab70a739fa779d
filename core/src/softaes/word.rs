//! The machine words the fixsliced AES runs on: `u64` (4 blocks at a time, the layout of
//! RustCrypto `aes`), and two 64-bit lanes of 4 blocks each (8 blocks at a time):
//! [`Lanes2`] is a wasm `v128` when the build has `simd128`, [`Portable2`] otherwise.
//!
//! Every operation of a two-lane word is the `u64` operation applied to each lane on its
//! own (bitwise logic, shifts and rotations within the lane, never across), so a batch
//! of 8 is exactly two independent batches of 4: lane 0 holds blocks 0-3 and lane 1
//! blocks 4-7.

use core::ops::{BitAnd, BitAndAssign, BitOr, BitOrAssign, BitXor, BitXorAssign, Not, Shl, Shr};

/// A word holding one row of the bitsliced state, made of 64-bit lanes.
pub(crate) trait Word:
    Sized
    + Copy
    + Default
    + BitAnd<Output = Self>
    + BitAndAssign
    + BitOr<Output = Self>
    + BitOrAssign
    + BitXor<Output = Self>
    + BitXorAssign
    + Not<Output = Self>
    + Shl<u32, Output = Self>
    + Shr<u32, Output = Self>
{
    /// Blocks encrypted together: 4 per 64-bit lane.
    const BLOCKS: usize;

    /// Width in bits of one row in a 64-bit lane.
    const ROW_BITS: u32 = 16;
    /// Half of `ROW_BITS`.
    const HALF_ROW: u32 = 8;
    /// Quarter of `ROW_BITS`.
    const QUARTER_ROW: u32 = 4;

    /// Distance in bits to rotate a state row by `(rows, cols)` positions.
    #[inline(always)]
    fn ror_distance(rows: u32, cols: u32) -> u32 {
        rows * Self::ROW_BITS + cols * Self::QUARTER_ROW
    }

    /// Rotate each 64-bit lane right by `n` bits (`0 < n < 64`).
    fn ror(self, n: u32) -> Self;

    /// The same 64-bit value in every lane.
    fn splat(x: u64) -> Self;

    /// Pack the same nibble across all 4 rows of the word.
    #[inline(always)]
    fn uniform_row(b: u8) -> Self {
        Self::splat(quad_bits_16_to_64(u16::from(b)) * 0x0001_0001_0001_0001)
    }

    /// Place one nibble at each of the 4 row positions of the word (row 0 = LSB).
    #[inline(always)]
    fn pack_rows(r0: u8, r1: u8, r2: u8, r3: u8) -> Self {
        Self::splat(
            quad_bits_16_to_64(u16::from(r0))
                | (quad_bits_16_to_64(u16::from(r1)) << 16)
                | (quad_bits_16_to_64(u16::from(r2)) << 32)
                | (quad_bits_16_to_64(u16::from(r3)) << 48),
        )
    }

    /// Bitslices `Self::BLOCKS` blocks (`input.len()` must be exactly that) into 8 rows.
    fn bitslice(output: &mut [Self; 8], input: &[[u8; 16]]);

    /// Unbitslices 8 rows into `Self::BLOCKS` blocks (`output.len()` must be exactly that).
    fn inv_bitslice(input: &[Self; 8], output: &mut [[u8; 16]]);

    /// Overwrites a state or round keys with zeros.
    fn wipe(words: &mut [Self]);
}

/// Expands a 16-bit row pattern to 64 bits, each bit four times (branchless; folds to a
/// constant when `b` is one).
#[inline(always)]
const fn quad_bits_16_to_64(b: u16) -> u64 {
    let x = b as u64;
    let x = (x | (x << 24)) & 0x0000_00FF_0000_00FF;
    let x = (x | (x << 12)) & 0x000F_000F_000F_000F;
    let x = (x | (x << 6)) & 0x0303_0303_0303_0303;
    let x = (x | (x << 3)) & 0x1111_1111_1111_1111;
    x | (x << 1) | (x << 2) | (x << 3)
}

/// The delta-swap pipeline shared by `bitslice` and `inv_bitslice` (it is its own inverse).
#[inline(always)]
fn bitslice_swaps(t: &mut [u64; 8]) {
    #[inline(always)]
    fn delta_swap_2(t: &mut [u64; 8], a: usize, b: usize, shift: u32, mask: u64) {
        let x = (t[a] ^ (t[b] >> shift)) & mask;
        t[a] ^= x;
        t[b] ^= x << shift;
    }
    // Bit index swap 5 <-> 0.
    let m0 = 0x5555_5555_5555_5555;
    delta_swap_2(t, 1, 0, 1, m0);
    delta_swap_2(t, 3, 2, 1, m0);
    delta_swap_2(t, 5, 4, 1, m0);
    delta_swap_2(t, 7, 6, 1, m0);
    // Bit index swap 6 <-> 1.
    let m1 = 0x3333_3333_3333_3333;
    delta_swap_2(t, 2, 0, 2, m1);
    delta_swap_2(t, 3, 1, 2, m1);
    delta_swap_2(t, 6, 4, 2, m1);
    delta_swap_2(t, 7, 5, 2, m1);
    // Bit index swap 7 <-> 2.
    let m2 = 0x0f0f_0f0f_0f0f_0f0f;
    delta_swap_2(t, 4, 0, 4, m2);
    delta_swap_2(t, 5, 1, 4, m2);
    delta_swap_2(t, 6, 2, 4, m2);
    delta_swap_2(t, 7, 3, 4, m2);
}

/// Bitslices four blocks into eight 64-bit rows (RustCrypto `aes`, `Word for u64`).
#[inline(always)]
fn bitslice4(input: &[[u8; 16]]) -> [u64; 8] {
    #[rustfmt::skip]
    #[inline(always)]
    fn read_reordered(b: &[u8; 16], o: usize) -> u64 {
        (u64::from(b[o])          ) |
        (u64::from(b[o + 1]) << 0x10) |
        (u64::from(b[o + 2]) << 0x20) |
        (u64::from(b[o + 3]) << 0x30) |
        (u64::from(b[o + 8]) << 0x08) |
        (u64::from(b[o + 9]) << 0x18) |
        (u64::from(b[o + 10]) << 0x28) |
        (u64::from(b[o + 11]) << 0x38)
    }
    let mut t = [
        read_reordered(&input[0], 0),
        read_reordered(&input[1], 0),
        read_reordered(&input[2], 0),
        read_reordered(&input[3], 0),
        read_reordered(&input[0], 4),
        read_reordered(&input[1], 4),
        read_reordered(&input[2], 4),
        read_reordered(&input[3], 4),
    ];
    bitslice_swaps(&mut t);
    t
}

/// Unbitslices eight 64-bit rows into four blocks.
#[inline(always)]
fn inv_bitslice4(rows: &[u64; 8], output: &mut [[u8; 16]]) {
    #[rustfmt::skip]
    #[inline(always)]
    fn write_reordered(c: u64, b: &mut [u8; 16], o: usize) {
        b[o] = c as u8;
        b[o + 1] = (c >> 0x10) as u8;
        b[o + 2] = (c >> 0x20) as u8;
        b[o + 3] = (c >> 0x30) as u8;
        b[o + 8] = (c >> 0x08) as u8;
        b[o + 9] = (c >> 0x18) as u8;
        b[o + 10] = (c >> 0x28) as u8;
        b[o + 11] = (c >> 0x38) as u8;
    }
    let mut t = *rows;
    bitslice_swaps(&mut t);
    write_reordered(t[0], &mut output[0], 0);
    write_reordered(t[4], &mut output[0], 4);
    write_reordered(t[1], &mut output[1], 0);
    write_reordered(t[5], &mut output[1], 4);
    write_reordered(t[2], &mut output[2], 0);
    write_reordered(t[6], &mut output[2], 4);
    write_reordered(t[3], &mut output[3], 0);
    write_reordered(t[7], &mut output[3], 4);
    zeroize::Zeroize::zeroize(&mut t);
}

/// A word of two 64-bit lanes, each holding a batch of 4 blocks.
#[cfg(any(test, all(target_arch = "wasm32", target_feature = "simd128")))]
trait TwoLanes: Copy {
    fn from_lanes(lo: u64, hi: u64) -> Self;
    fn lane(self, i: usize) -> u64;
}

/// `Word::bitslice` for two lanes: blocks 0-3 into lane 0, 4-7 into lane 1.
#[cfg(any(test, all(target_arch = "wasm32", target_feature = "simd128")))]
#[inline(always)]
fn bitslice_two<W: TwoLanes>(output: &mut [W; 8], input: &[[u8; 16]]) {
    let lo = bitslice4(&input[..4]);
    let hi = bitslice4(&input[4..8]);
    for (o, (l, h)) in output.iter_mut().zip(lo.iter().zip(&hi)) {
        *o = W::from_lanes(*l, *h);
    }
}

/// `Word::inv_bitslice` for two lanes.
#[cfg(any(test, all(target_arch = "wasm32", target_feature = "simd128")))]
#[inline(always)]
fn inv_bitslice_two<W: TwoLanes>(input: &[W; 8], output: &mut [[u8; 16]]) {
    let (lo_out, hi_out) = output.split_at_mut(4);
    inv_bitslice4(&input.map(|w| w.lane(0)), lo_out);
    inv_bitslice4(&input.map(|w| w.lane(1)), hi_out);
}

impl Word for u64 {
    const BLOCKS: usize = 4;

    #[inline(always)]
    fn ror(self, n: u32) -> u64 {
        self.rotate_right(n)
    }

    #[inline(always)]
    fn splat(x: u64) -> u64 {
        x
    }

    #[inline(always)]
    fn bitslice(output: &mut [u64; 8], input: &[[u8; 16]]) {
        *output = bitslice4(input);
    }

    #[inline(always)]
    fn inv_bitslice(input: &[u64; 8], output: &mut [[u8; 16]]) {
        inv_bitslice4(input, output);
    }

    fn wipe(words: &mut [u64]) {
        zeroize::Zeroize::zeroize(words);
    }
}

/// Two 64-bit lanes in plain Rust: the reference form of the 8-block word, for the tests
/// (builds without 128-bit SIMD use `u64` batches).
#[cfg(test)]
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub(crate) struct Portable2([u64; 2]);

#[cfg(test)]
macro_rules! portable_binop {
    ($tr:ident, $f:ident, $tra:ident, $fa:ident, $op:tt) => {
        impl $tr for Portable2 {
            type Output = Portable2;
            #[inline(always)]
            fn $f(self, o: Portable2) -> Portable2 {
                Portable2([self.0[0] $op o.0[0], self.0[1] $op o.0[1]])
            }
        }
        impl $tra for Portable2 {
            #[inline(always)]
            fn $fa(&mut self, o: Portable2) {
                *self = *self $op o;
            }
        }
    };
}
#[cfg(test)]
portable_binop!(BitAnd, bitand, BitAndAssign, bitand_assign, &);
#[cfg(test)]
portable_binop!(BitOr, bitor, BitOrAssign, bitor_assign, |);
#[cfg(test)]
portable_binop!(BitXor, bitxor, BitXorAssign, bitxor_assign, ^);

#[cfg(test)]
impl Not for Portable2 {
    type Output = Portable2;
    #[inline(always)]
    fn not(self) -> Portable2 {
        Portable2([!self.0[0], !self.0[1]])
    }
}
#[cfg(test)]
impl Shl<u32> for Portable2 {
    type Output = Portable2;
    #[inline(always)]
    fn shl(self, n: u32) -> Portable2 {
        Portable2([self.0[0] << n, self.0[1] << n])
    }
}
#[cfg(test)]
impl Shr<u32> for Portable2 {
    type Output = Portable2;
    #[inline(always)]
    fn shr(self, n: u32) -> Portable2 {
        Portable2([self.0[0] >> n, self.0[1] >> n])
    }
}

#[cfg(test)]
impl TwoLanes for Portable2 {
    #[inline(always)]
    fn from_lanes(lo: u64, hi: u64) -> Portable2 {
        Portable2([lo, hi])
    }
    #[inline(always)]
    fn lane(self, i: usize) -> u64 {
        self.0[i & 1]
    }
}

#[cfg(test)]
impl Word for Portable2 {
    const BLOCKS: usize = 8;

    #[inline(always)]
    fn ror(self, n: u32) -> Portable2 {
        Portable2([self.0[0].rotate_right(n), self.0[1].rotate_right(n)])
    }

    #[inline(always)]
    fn splat(x: u64) -> Portable2 {
        Portable2([x, x])
    }

    #[inline(always)]
    fn bitslice(output: &mut [Portable2; 8], input: &[[u8; 16]]) {
        bitslice_two(output, input);
    }

    #[inline(always)]
    fn inv_bitslice(input: &[Portable2; 8], output: &mut [[u8; 16]]) {
        inv_bitslice_two(input, output);
    }

    fn wipe(words: &mut [Portable2]) {
        for w in words.iter_mut() {
            zeroize::Zeroize::zeroize(&mut w.0);
        }
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub(crate) use simd::Lanes2;

/// Without 128-bit SIMD the 8-block word of the tests is the portable one.
#[cfg(all(test, not(all(target_arch = "wasm32", target_feature = "simd128"))))]
pub(crate) type Lanes2 = Portable2;

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd {
    use super::{bitslice_two, inv_bitslice_two, TwoLanes, Word};
    use core::arch::wasm32::{
        i64x2_shl, i8x16_shuffle, u64x2, u64x2_extract_lane, u64x2_shr, u64x2_splat, v128,
        v128_and, v128_not, v128_or, v128_xor,
    };
    use core::ops::{
        BitAnd, BitAndAssign, BitOr, BitOrAssign, BitXor, BitXorAssign, Not, Shl, Shr,
    };

    /// Two 64-bit lanes in a wasm `v128` (i64x2 operations only).
    #[derive(Clone, Copy)]
    pub(crate) struct Lanes2(v128);

    impl Default for Lanes2 {
        #[inline(always)]
        fn default() -> Lanes2 {
            Lanes2(u64x2_splat(0))
        }
    }

    macro_rules! simd_binop {
        ($tr:ident, $f:ident, $tra:ident, $fa:ident, $op:ident) => {
            impl $tr for Lanes2 {
                type Output = Lanes2;
                #[inline(always)]
                fn $f(self, o: Lanes2) -> Lanes2 {
                    Lanes2($op(self.0, o.0))
                }
            }
            impl $tra for Lanes2 {
                #[inline(always)]
                fn $fa(&mut self, o: Lanes2) {
                    self.0 = $op(self.0, o.0);
                }
            }
        };
    }
    simd_binop!(BitAnd, bitand, BitAndAssign, bitand_assign, v128_and);
    simd_binop!(BitOr, bitor, BitOrAssign, bitor_assign, v128_or);
    simd_binop!(BitXor, bitxor, BitXorAssign, bitxor_assign, v128_xor);

    impl Not for Lanes2 {
        type Output = Lanes2;
        #[inline(always)]
        fn not(self) -> Lanes2 {
            Lanes2(v128_not(self.0))
        }
    }
    impl Shl<u32> for Lanes2 {
        type Output = Lanes2;
        #[inline(always)]
        fn shl(self, n: u32) -> Lanes2 {
            Lanes2(i64x2_shl(self.0, n))
        }
    }
    impl Shr<u32> for Lanes2 {
        type Output = Lanes2;
        #[inline(always)]
        fn shr(self, n: u32) -> Lanes2 {
            Lanes2(u64x2_shr(self.0, n))
        }
    }

    /// Rotates each 64-bit lane right by `K` bytes: one byte shuffle.
    macro_rules! ror_bytes {
        ($v:expr, $k:literal) => {
            i8x16_shuffle::<
                { $k % 8 },
                { ($k + 1) % 8 },
                { ($k + 2) % 8 },
                { ($k + 3) % 8 },
                { ($k + 4) % 8 },
                { ($k + 5) % 8 },
                { ($k + 6) % 8 },
                { ($k + 7) % 8 },
                { 8 + $k % 8 },
                { 8 + ($k + 1) % 8 },
                { 8 + ($k + 2) % 8 },
                { 8 + ($k + 3) % 8 },
                { 8 + ($k + 4) % 8 },
                { 8 + ($k + 5) % 8 },
                { 8 + ($k + 6) % 8 },
                { 8 + ($k + 7) % 8 },
            >($v, $v)
        };
    }

    impl TwoLanes for Lanes2 {
        #[inline(always)]
        fn from_lanes(lo: u64, hi: u64) -> Lanes2 {
            Lanes2(u64x2(lo, hi))
        }
        #[inline(always)]
        fn lane(self, i: usize) -> u64 {
            if i == 0 {
                u64x2_extract_lane::<0>(self.0)
            } else {
                u64x2_extract_lane::<1>(self.0)
            }
        }
    }

    impl Word for Lanes2 {
        const BLOCKS: usize = 8;

        #[inline(always)]
        fn ror(self, n: u32) -> Lanes2 {
            // Whole-byte distances (the row rotations) are one shuffle; the rest two
            // shifts and an OR. `n` is a constant at every call site, so this folds.
            Lanes2(match n {
                8 => ror_bytes!(self.0, 1),
                16 => ror_bytes!(self.0, 2),
                24 => ror_bytes!(self.0, 3),
                32 => ror_bytes!(self.0, 4),
                40 => ror_bytes!(self.0, 5),
                48 => ror_bytes!(self.0, 6),
                56 => ror_bytes!(self.0, 7),
                _ => v128_or(u64x2_shr(self.0, n), i64x2_shl(self.0, 64 - n)),
            })
        }

        #[inline(always)]
        fn splat(x: u64) -> Lanes2 {
            Lanes2(u64x2_splat(x))
        }

        #[inline(always)]
        fn bitslice(output: &mut [Lanes2; 8], input: &[[u8; 16]]) {
            bitslice_two(output, input);
        }

        #[inline(always)]
        fn inv_bitslice(input: &[Lanes2; 8], output: &mut [[u8; 16]]) {
            inv_bitslice_two(input, output);
        }

        fn wipe(words: &mut [Lanes2]) {
            // No volatile store without `unsafe`: overwrite, then hand the memory to
            // `black_box`, which the optimiser must assume reads it, so the stores stay.
            for w in words.iter_mut() {
                *w = Lanes2::default();
            }
            core::hint::black_box(words);
        }
    }
}
