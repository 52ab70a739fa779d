//! AES-256-GCM (NIST SP 800-38D, 96-bit nonces only) over the fixsliced AES.
//!
//! Counter blocks are `nonce || u32_be(i)`: `i = 1` gives the tag mask `E(K, J0)` and
//! `i = 2, 3, ..` the keystream. They are encrypted a batch at a time, the tag mask in
//! the first batch with the first keystream blocks. Opening computes the tag over the
//! ciphertext and compares it in constant time before any byte is decrypted.

use super::ghash::{GHashKey, GHashState};
use super::{encrypt, key_schedule, WideKeys, Word};
use crate::error::{Error, Result};
use zeroize::Zeroize;

const BLOCK: usize = 16;

/// The largest batch (the 8-block word).
const MAX_BATCH: usize = 8;

/// The longest message GCM allows: 2^32 - 2 blocks (the 32-bit counter must not wrap).
const MAX_MESSAGE: u64 = ((1u64 << 32) - 2) * 16;

/// The 8-block word of this build: a wasm `v128` with `simd128`. Without it every batch
/// is 4 blocks in a `u64` (the portable 8-block form would be no faster).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
type Wide = super::word::Lanes2;

/// An AES-256-GCM key, expanded once: the fixsliced round keys (in each batch word) and
/// the GHASH key. All are wiped on drop.
pub(crate) struct Gcm {
    narrow: WideKeys<u64>,
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    wide: WideKeys<Wide>,
    ghash: GHashKey,
}

/// Calls `$f` with the round keys of the batch word that suits `$len` bytes of message:
/// up to 3 blocks (4 with the tag block) take one 4-block pass, which costs less than an
/// 8-block one; longer messages take 8-block passes where the build has 128-bit SIMD.
macro_rules! with_batch {
    ($self:ident, $len:expr, $f:ident ( $($arg:expr),* )) => {{
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        {
            if $len > 3 * BLOCK {
                $self.$f(&$self.wide, $($arg),*)
            } else {
                $self.$f(&$self.narrow, $($arg),*)
            }
        }
        #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
        {
            $self.$f(&$self.narrow, $($arg),*)
        }
    }};
}

impl Gcm {
    /// Expands `key`: the AES-256 key schedule and `H = E(K, 0^128)`.
    pub(crate) fn new(key: &[u8; 32]) -> Gcm {
        let mut rk = [0u64; 120];
        key_schedule(key, &mut rk);
        let narrow = WideKeys::<u64>::new(&rk);
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        let wide = WideKeys::<Wide>::new(&rk);
        rk.zeroize();
        let mut h = [[0u8; BLOCK]; 4];
        encrypt::<u64>(&narrow, &mut h);
        let ghash = GHashKey::new(&h[0]);
        h.zeroize();
        Gcm {
            narrow,
            #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
            wide,
            ghash,
        }
    }

    /// Encrypts `in_out` in place and returns the tag.
    pub(crate) fn seal(&self, nonce: &[u8; 12], aad: &[u8], in_out: &mut [u8]) -> Result<[u8; 16]> {
        with_batch!(self, in_out.len(), seal_with(nonce, aad, in_out))
    }

    /// Checks `tag`, then decrypts `in_out` in place. On a wrong tag nothing is decrypted.
    pub(crate) fn open(
        &self,
        nonce: &[u8; 12],
        aad: &[u8],
        in_out: &mut [u8],
        tag: &[u8; 16],
    ) -> Result<()> {
        with_batch!(self, in_out.len(), open_with(nonce, aad, in_out, tag))
    }

    pub(super) fn seal_with<W: Word>(
        &self,
        keys: &WideKeys<W>,
        nonce: &[u8; 12],
        aad: &[u8],
        in_out: &mut [u8],
    ) -> Result<[u8; 16]> {
        check_lengths(aad.len(), in_out.len()).map_err(|_| Error::TooLarge {
            limit: crate::envelope::MAX_PLAINTEXT,
        })?;
        let mut mask = [0u8; BLOCK];
        self.ctr(keys, nonce, in_out, |m| {
            mask = *m;
            Ok(())
        })?;
        let tag = self.tag(&mask, aad, in_out);
        mask.zeroize();
        Ok(tag)
    }

    pub(super) fn open_with<W: Word>(
        &self,
        keys: &WideKeys<W>,
        nonce: &[u8; 12],
        aad: &[u8],
        in_out: &mut [u8],
        tag: &[u8; 16],
    ) -> Result<()> {
        check_lengths(aad.len(), in_out.len()).map_err(|_| Error::DecryptFailed)?;
        // The tag is over the ciphertext, which is still in `in_out` when the mask is ready.
        let unmasked = self.tag(&[0u8; BLOCK], aad, in_out);
        self.ctr(keys, nonce, in_out, |mask| {
            let mut expected = unmasked;
            for (e, m) in expected.iter_mut().zip(mask) {
                *e ^= m;
            }
            let ok = crate::ct::constant_time_equal(&expected, tag);
            expected.zeroize();
            if ok {
                Ok(())
            } else {
                Err(Error::DecryptFailed)
            }
        })
    }

    /// GHASH over `aad` and `ct` with their bit lengths, XORed with `mask`.
    fn tag(&self, mask: &[u8; BLOCK], aad: &[u8], ct: &[u8]) -> [u8; 16] {
        let mut g = GHashState::default();
        self.ghash.padded(&mut g, aad);
        self.ghash.padded(&mut g, ct);
        let mut lengths = [0u8; BLOCK];
        // Both fit: checked by `check_lengths` (and usize is at most 64 bits).
        lengths[..8].copy_from_slice(&(bits(aad.len())).to_be_bytes());
        lengths[8..].copy_from_slice(&(bits(ct.len())).to_be_bytes());
        self.ghash.block(&mut g, &lengths);
        let mut out = g.bytes();
        for (o, m) in out.iter_mut().zip(mask) {
            *o ^= m;
        }
        out
    }

    /// Counter mode from `J0 = nonce || 1`: hands `E(K, J0)` to `first` (which may refuse),
    /// then XORs the keystream from `J0 + 1` into `data`.
    fn ctr<W: Word>(
        &self,
        keys: &WideKeys<W>,
        nonce: &[u8; 12],
        data: &mut [u8],
        first: impl FnOnce(&[u8; BLOCK]) -> Result<()>,
    ) -> Result<()> {
        let mut buf = [[0u8; BLOCK]; MAX_BATCH];
        let r = ctr_in(keys, &mut buf[..W::BLOCKS], nonce, data, first);
        buf.zeroize();
        r
    }
}

fn ctr_in<W: Word>(
    keys: &WideKeys<W>,
    batch: &mut [[u8; BLOCK]],
    nonce: &[u8; 12],
    data: &mut [u8],
    first: impl FnOnce(&[u8; BLOCK]) -> Result<()>,
) -> Result<()> {
    let mut counter: u32 = 1;
    let mut chunks = data.chunks_mut(BLOCK);
    let mut first = Some(first);
    loop {
        for b in batch.iter_mut() {
            b[..12].copy_from_slice(nonce);
            b[12..].copy_from_slice(&counter.to_be_bytes());
            counter = counter.wrapping_add(1);
        }
        encrypt(keys, batch);
        let mut keystream = &batch[..];
        if let Some(f) = first.take() {
            f(&batch[0])?;
            keystream = &batch[1..];
        }
        let mut done = false;
        for ks in keystream {
            match chunks.next() {
                Some(chunk) => {
                    for (d, k) in chunk.iter_mut().zip(ks) {
                        *d ^= k;
                    }
                }
                None => {
                    done = true;
                    break;
                }
            }
        }
        if done || chunks.len() == 0 {
            return Ok(());
        }
    }
}

/// GCM's length limits (SP 800-38D §5.2.1.1): the message below 2^32 - 2 blocks, the AAD
/// below 2^61 bytes.
fn check_lengths(aad_len: usize, len: usize) -> core::result::Result<(), ()> {
    let len = u64::try_from(len).map_err(|_| ())?;
    let aad_len = u64::try_from(aad_len).map_err(|_| ())?;
    if len > MAX_MESSAGE || aad_len >= 1 << 61 {
        return Err(());
    }
    Ok(())
}

/// A length in bits (lengths are checked by `check_lengths`, so this cannot overflow).
fn bits(len: usize) -> u64 {
    u64::try_from(len).unwrap_or(u64::MAX).wrapping_mul(8)
}

#[cfg(test)]
mod tests {
    use super::super::{Lanes2, Portable2};
    use super::*;
    use aes_gcm::aead::{AeadInOut, KeyInit};
    use proptest::prelude::*;

    fn keys<W: Word>(key: &[u8; 32]) -> WideKeys<W> {
        let mut rk = [0u64; 120];
        super::super::key_schedule(key, &mut rk);
        WideKeys::new(&rk)
    }

    fn seal_all(key: &[u8; 32], nonce: &[u8; 12], aad: &[u8], pt: &[u8]) -> [Vec<u8>; 4] {
        let g = Gcm::new(key);
        let (k4, kp, kl) = (
            keys::<u64>(key),
            keys::<Portable2>(key),
            keys::<Lanes2>(key),
        );
        let one = |f: &dyn Fn(&mut [u8]) -> [u8; 16]| {
            let mut buf = pt.to_vec();
            let tag = f(&mut buf);
            buf.extend_from_slice(&tag);
            buf
        };
        [
            one(&|b| g.seal_with(&k4, nonce, aad, b).unwrap()),
            one(&|b| g.seal_with(&kp, nonce, aad, b).unwrap()),
            one(&|b| g.seal_with(&kl, nonce, aad, b).unwrap()),
            one(&|b| g.seal(nonce, aad, b).unwrap()),
        ]
    }

    fn reference(key: &[u8; 32], nonce: &[u8; 12], aad: &[u8], pt: &[u8]) -> Vec<u8> {
        let c = aes_gcm::Aes256Gcm::new(key.into());
        let mut buf = pt.to_vec();
        let tag = c
            .encrypt_inout_detached(nonce.into(), aad, (&mut buf[..]).into())
            .unwrap();
        buf.extend_from_slice(&tag);
        buf
    }

    fn open_all(
        key: &[u8; 32],
        nonce: &[u8; 12],
        aad: &[u8],
        sealed: &[u8],
    ) -> Vec<Result<Vec<u8>>> {
        let g = Gcm::new(key);
        let (k4, kp, kl) = (
            keys::<u64>(key),
            keys::<Portable2>(key),
            keys::<Lanes2>(key),
        );
        let (ct, tag) = sealed.split_at(sealed.len() - 16);
        let tag: [u8; 16] = tag.try_into().unwrap();
        let run = |f: &dyn Fn(&mut [u8]) -> Result<()>| {
            let mut buf = ct.to_vec();
            f(&mut buf).map(|()| buf.clone()).inspect_err(|_| {
                // Nothing was decrypted: the buffer still holds the ciphertext.
                assert_eq!(buf, ct);
            })
        };
        vec![
            run(&|b| g.open_with(&k4, nonce, aad, b, &tag)),
            run(&|b| g.open_with(&kp, nonce, aad, b, &tag)),
            run(&|b| g.open_with(&kl, nonce, aad, b, &tag)),
            run(&|b| g.open(nonce, aad, b, &tag)),
        ]
    }

    /// The limits of SP 800-38D: at most 2^32 - 2 blocks of message, under 2^61 bytes of AAD
    /// (lengths no test can allocate, so the check is tested on its own).
    #[test]
    fn length_limits() {
        let max = usize::try_from(MAX_MESSAGE).unwrap();
        assert_eq!(check_lengths(0, max), Ok(()));
        assert_eq!(check_lengths(0, max + 1), Err(()));
        assert_eq!(check_lengths((1 << 61) - 1, 0), Ok(()));
        assert_eq!(check_lengths(1 << 61, 0), Err(()));
    }

    /// NIST GCM test case 16 (AES-256, 60-byte plaintext, 20-byte AAD; McGrew-Viega).
    #[test]
    fn nist_test_case_16() {
        let key: [u8; 32] =
            hex::decode("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308")
                .unwrap()
                .try_into()
                .unwrap();
        let nonce: [u8; 12] = hex::decode("cafebabefacedbaddecaf888")
            .unwrap()
            .try_into()
            .unwrap();
        let pt = hex::decode(
            "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72\
             1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
        )
        .unwrap();
        let aad = hex::decode("feedfacedeadbeeffeedfacedeadbeefabaddad2").unwrap();
        let want = hex::decode(
            "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa\
             8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662\
             76fc6ece0f4e1768cddf8853bb2d551b",
        )
        .unwrap();
        for got in seal_all(&key, &nonce, &aad, &pt) {
            assert_eq!(got, want);
        }
        for got in open_all(&key, &nonce, &aad, &want) {
            assert_eq!(got.unwrap(), pt);
        }
    }

    /// Every changed bit of the tag, the ciphertext or the AAD is refused, in every word
    /// width, and leaves the ciphertext as it was.
    #[test]
    fn tampering_is_refused() {
        let key = [9u8; 32];
        let nonce = [3u8; 12];
        let aad = b"aad-bytes";
        let pt = [0x5au8; 150];
        let sealed = reference(&key, &nonce, aad, &pt);
        for i in 0..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 0x80;
            for r in open_all(&key, &nonce, aad, &bad) {
                assert!(matches!(r, Err(Error::DecryptFailed)), "byte {i}");
            }
        }
        for r in open_all(&key, &nonce, b"aad-byteS", &sealed) {
            assert!(matches!(r, Err(Error::DecryptFailed)));
        }
        let mut other_nonce = nonce;
        other_nonce[11] ^= 1;
        for r in open_all(&key, &other_nonce, aad, &sealed) {
            assert!(matches!(r, Err(Error::DecryptFailed)));
        }
    }

    /// Lengths around every batch boundary (4 and 8 blocks, the first batch one short).
    #[test]
    fn every_length_near_the_batch_edges() {
        let key = [0x42u8; 32];
        let nonce = [0x24u8; 12];
        for len in 0..=300 {
            let pt: Vec<u8> = (0..len).map(|i| (i * 7 + 1) as u8).collect();
            let want = reference(&key, &nonce, b"ctx", &pt);
            for got in seal_all(&key, &nonce, b"ctx", &pt) {
                assert_eq!(got, want, "len {len}");
            }
            for got in open_all(&key, &nonce, b"ctx", &want) {
                assert_eq!(got.unwrap(), pt, "len {len}");
            }
        }
    }

    proptest! {
        /// Byte-equal with RustCrypto `aes-gcm` for random keys, nonces, AAD and messages.
        #[test]
        fn matches_aes_gcm_crate(
            key in any::<[u8; 32]>(),
            nonce in any::<[u8; 12]>(),
            aad in prop::collection::vec(any::<u8>(), 0..80),
            pt in prop::collection::vec(any::<u8>(), 0..600),
        ) {
            let want = reference(&key, &nonce, &aad, &pt);
            for got in seal_all(&key, &nonce, &aad, &pt) {
                prop_assert_eq!(&got, &want);
            }
            for got in open_all(&key, &nonce, &aad, &want) {
                prop_assert_eq!(got.unwrap(), pt.clone());
            }
        }
    }
}
