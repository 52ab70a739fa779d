//! The `kc1` envelope: byte layout, text form and header parsing.
//!
//! ```text
//! offset  length  field
//! 0       1       version = 0x01
//! 1       4       kid (big-endian, non-zero)
//! 5       12      nonce
//! 17      n       AES-256-GCM ciphertext (n <= 64 MiB)
//! 17+n    16      tag
//! ```
//! AAD = `version || kid || u32_be(len(owner)) || owner || context`.
//! Text form: `"kc1." || base64url_nopad(binary)`.
//!
//! The envelope operations of a [`Keyring`] (seal, open, rewrap) are here too, as an
//! `impl Keyring` block beside the layout they write and read.

use crate::aead::{Backend, Cipher, NONCE_LEN, TAG_LEN};
use crate::error::{Error, MalformedKind, Result};
use crate::kdf::{self, LABEL_ENVELOPE};
use crate::keyring::{Keyring, Material};
use crate::random::fill_random;
use crate::secret::{SecretBytes, SecretString};
use zeroize::{Zeroize, Zeroizing};

/// The version byte of `kc1`.
pub const VERSION: u8 = 0x01;
/// The text prefix of `kc1`.
pub const TEXT_PREFIX: &str = "kc1.";
/// Header length: version, kid, nonce.
pub const HEADER_LEN: usize = 1 + 4 + NONCE_LEN;
/// The largest plaintext: 64 MiB.
pub const MAX_PLAINTEXT: usize = 64 * 1024 * 1024;
/// The largest binary envelope.
pub const MAX_BINARY_LEN: usize = HEADER_LEN + MAX_PLAINTEXT + TAG_LEN;
/// The shortest binary envelope (empty plaintext).
pub const MIN_BINARY_LEN: usize = HEADER_LEN + TAG_LEN;

/// What the header of an envelope says (no key needed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct EnvelopeInfo {
    /// The format version (1).
    pub version: u8,
    /// The key id that sealed it.
    pub kid: u32,
    /// The plaintext length in bytes.
    pub plaintext_len: usize,
}

/// A parsed binary envelope borrowing its bytes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Parsed<'a> {
    pub kid: u32,
    pub nonce: [u8; NONCE_LEN],
    pub ciphertext: &'a [u8],
    pub tag: [u8; TAG_LEN],
}

/// Parses a binary envelope: checks length, version and kid before anything else.
pub(crate) fn parse_binary(bin: &[u8]) -> Result<Parsed<'_>> {
    if bin.len() < MIN_BINARY_LEN || bin.len() > MAX_BINARY_LEN {
        return Err(Error::Malformed(MalformedKind::EnvelopeLength));
    }
    let (header, rest) = bin.split_at(HEADER_LEN);
    if header[0] != VERSION {
        return Err(Error::Malformed(MalformedKind::EnvelopeVersion));
    }
    let kid = u32::from_be_bytes([header[1], header[2], header[3], header[4]]);
    if kid == 0 {
        return Err(Error::Malformed(MalformedKind::EnvelopeKid));
    }
    let mut nonce = [0u8; NONCE_LEN];
    nonce.copy_from_slice(&header[5..HEADER_LEN]);
    let (ciphertext, tag_bytes) = rest.split_at(rest.len() - TAG_LEN);
    let mut tag = [0u8; TAG_LEN];
    tag.copy_from_slice(tag_bytes);
    Ok(Parsed {
        kid,
        nonce,
        ciphertext,
        tag,
    })
}

/// The longest text envelope: prefix plus base64 of the longest binary.
const MAX_TEXT_LEN: usize = TEXT_PREFIX.len() + (MAX_BINARY_LEN * 4).div_ceil(3);

/// Decodes the text form to binary. Accepts exactly `kc1.` + canonical base64url without padding.
pub(crate) fn decode_text(text: &str) -> Result<Vec<u8>> {
    let body = text
        .strip_prefix(TEXT_PREFIX)
        .ok_or(Error::Malformed(MalformedKind::EnvelopePrefix))?;
    if text.len() > MAX_TEXT_LEN {
        return Err(Error::Malformed(MalformedKind::EnvelopeLength));
    }
    // SIMD base64 (`base64-simd`, 5 to 8 times the `base64` crate at 1 MiB on x86-64, and
    // the same bytes): strict, like the `base64` crate's URL_SAFE_NO_PAD that it replaced
    // here (no padding, no other characters, no non-zero trailing bits; checked against
    // it by `text_codec_tests`).
    base64_simd::URL_SAFE_NO_PAD
        .decode_to_vec(body)
        .map_err(|_| Error::Malformed(MalformedKind::Base64))
}

/// Encodes a binary envelope as text (`kc1.` + base64url without padding), straight into
/// one buffer of the exact length (SIMD base64, see [`decode_text`]). Every binding's
/// text form comes from here; not part of the API.
#[doc(hidden)]
#[must_use]
pub fn encode_text(bin: &[u8]) -> String {
    let b64 = base64_simd::URL_SAFE_NO_PAD;
    let mut out = String::with_capacity(TEXT_PREFIX.len() + b64.encoded_length(bin.len()));
    out.push_str(TEXT_PREFIX);
    b64.encode_append(bin, &mut out);
    out
}

/// The AAD's length: `version || kid || u32_be(len(owner)) || owner || context`.
fn aad_len(owner: &str, context: &[u8]) -> usize {
    1 + 4 + 4 + owner.len() + context.len()
}

/// Writes the AAD into `out`, which is exactly [`aad_len`] bytes long.
fn write_aad(out: &mut [u8], kid: u32, owner: &str, context: &[u8]) {
    let (head, rest) = out.split_at_mut(9);
    head[0] = VERSION;
    head[1..5].copy_from_slice(&kid.to_be_bytes());
    // Owner length is at most 1024 (checked by callers), so this never saturates.
    let owner_len = u32::try_from(owner.len()).unwrap_or(u32::MAX);
    head[5..9].copy_from_slice(&owner_len.to_be_bytes());
    let (o, c) = rest.split_at_mut(owner.len());
    o.copy_from_slice(owner.as_bytes());
    c.copy_from_slice(context);
}

/// Builds the AAD: `version || kid || u32_be(len(owner)) || owner || context`.
pub(crate) fn aad(kid: u32, owner: &str, context: &[u8]) -> Vec<u8> {
    let mut aad = vec![0u8; aad_len(owner, context)];
    write_aad(&mut aad, kid, owner, context);
    aad
}

/// The longest AAD [`with_aad`] builds on the stack (a longer one goes to the heap).
const STACK_AAD: usize = 256;

/// Calls `f` with the AAD of [`aad`], built on the stack when it fits in 256 bytes (the
/// common case: an owner id and a field name), to spare a heap allocation per call.
pub(crate) fn with_aad<T>(kid: u32, owner: &str, context: &[u8], f: impl FnOnce(&[u8]) -> T) -> T {
    let len = aad_len(owner, context);
    if len > STACK_AAD {
        return f(&aad(kid, owner, context));
    }
    let mut buf = [0u8; STACK_AAD];
    write_aad(&mut buf[..len], kid, owner, context);
    f(&buf[..len])
}

/// Where the data an AES-GCM call works on lies: already in the output buffer (its first
/// `n` bytes past the header, sealed or opened in place), or in another buffer, read from
/// there and written into the output in one pass (out of place).
#[derive(Clone, Copy)]
enum Placed<'a> {
    InPlace(usize),
    From(&'a [u8]),
}

/// Reads the header of a text envelope: version, kid and plaintext length. No key needed.
///
/// # Errors
/// [`Error::Malformed`] for anything that is not a `kc1` envelope.
pub fn inspect(envelope: &str) -> Result<EnvelopeInfo> {
    let bin = decode_text(envelope)?;
    inspect_binary(&bin)
}

/// [`inspect`] for the binary form.
///
/// # Errors
/// [`Error::Malformed`].
pub fn inspect_binary(envelope: &[u8]) -> Result<EnvelopeInfo> {
    let p = parse_binary(envelope)?;
    Ok(EnvelopeInfo {
        version: VERSION,
        kid: p.kid,
        plaintext_len: p.ciphertext.len(),
    })
}

/// The envelope operations of a keyring.
impl Keyring {
    /// Seals `plaintext` for `owner` (and `context`, which may be empty) under the primary key.
    ///
    /// # Errors
    /// [`Error::InvalidOwner`], [`Error::TooLarge`] over 64 MiB, [`Error::RandomUnavailable`].
    pub fn seal(&self, owner: &str, plaintext: &[u8], context: &[u8]) -> Result<String> {
        let bin = self.seal_binary(owner, plaintext, context)?;
        Ok(encode_text(&bin))
    }

    /// [`Keyring::seal`] returning the binary form.
    ///
    /// # Errors
    /// As [`Keyring::seal`].
    pub fn seal_binary(&self, owner: &str, plaintext: &[u8], context: &[u8]) -> Result<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        fill_random(&mut nonce)?;
        self.seal_inner(
            self.primary_kid_checked(owner, plaintext)?,
            owner,
            plaintext,
            context,
            &nonce,
        )
    }

    /// The length of the binary envelope of a `plaintext_len`-byte plaintext: what
    /// [`Keyring::seal_binary_into`] writes (saturating, so an impossible length stays impossible).
    #[must_use]
    pub const fn sealed_len(plaintext_len: usize) -> usize {
        plaintext_len.saturating_add(HEADER_LEN + TAG_LEN)
    }

    /// The plaintext length of a binary envelope of `envelope_len` bytes, the inverse of
    /// [`Keyring::sealed_len`]: `None` when no envelope has that length (shorter than an
    /// empty plaintext's, or longer than a [`MAX_PLAINTEXT`] one's). The length alone: the
    /// envelope itself is checked when it is opened. For bindings that size the output of
    /// [`Keyring::open_binary_into`] before the call.
    #[must_use]
    pub const fn opened_len_binary(envelope_len: usize) -> Option<usize> {
        match envelope_len.checked_sub(HEADER_LEN + TAG_LEN) {
            Some(n) if n <= MAX_PLAINTEXT => Some(n),
            _ => None,
        }
    }

    /// The plaintext length of a text envelope of `text_len` bytes (characters: the text
    /// form is ASCII), `kc1.` and the unpadded base64url of [`Keyring::sealed_len`]`(n)`
    /// bytes: `None` when no envelope has that length (shorter than the prefix, a base64
    /// length that is 1 modulo 4, or a binary length [`Keyring::opened_len_binary`] refuses).
    /// The length alone, as [`Keyring::opened_len_binary`].
    #[must_use]
    pub const fn opened_len(text_len: usize) -> Option<usize> {
        let Some(b64) = text_len.checked_sub(TEXT_PREFIX.len()) else {
            return None;
        };
        // Each whole group of 4 characters holds 3 bytes; a last group of 2 or 3, one
        // byte fewer than its characters; a last group of 1 is not base64.
        let binary_len = match b64 % 4 {
            1 => return None,
            tail => b64 / 4 * 3 + tail.saturating_sub(1),
        };
        Self::opened_len_binary(binary_len)
    }

    /// [`Keyring::seal_binary`] into a caller's buffer of exactly
    /// [`Keyring::sealed_len`]`(plaintext.len())` bytes, for bindings that seal straight into
    /// their runtime's own byte object (no intermediate vector). The plaintext is encrypted
    /// straight into `out` (out of place on the native backend; copied first on wasm32's);
    /// if sealing fails, `out` is wiped.
    ///
    /// # Errors
    /// As [`Keyring::seal`], checked first; then [`Error::InvalidArgument`] when `out` has
    /// another length (nothing is written).
    pub fn seal_binary_into(
        &self,
        owner: &str,
        plaintext: &[u8],
        context: &[u8],
        out: &mut [u8],
    ) -> Result<()> {
        let kid = self.primary_kid_checked(owner, plaintext)?;
        if out.len() != Self::sealed_len(plaintext.len()) {
            return Err(Error::InvalidArgument(
                "output length is not sealed_len(plaintext)",
            ));
        }
        let mut nonce = [0u8; NONCE_LEN];
        fill_random(&mut nonce)?;
        self.seal_into(kid, owner, plaintext, context, &nonce, out)
    }

    /// A copy of `plaintext` laid out as [`Keyring::seal_binary_in_place`] takes it: a
    /// buffer of [`Keyring::sealed_len`]`(plaintext.len())` bytes with the plaintext where
    /// the envelope's ciphertext goes (wiped on drop, since until it is sealed it holds the
    /// plaintext). For bindings whose async seal must copy the caller's plaintext: the
    /// one copy is then the envelope's own buffer.
    #[must_use]
    pub fn sealed_buffer(plaintext: &[u8]) -> Zeroizing<Vec<u8>> {
        let mut buf = Zeroizing::new(vec![0u8; Self::sealed_len(plaintext.len())]);
        buf[HEADER_LEN..HEADER_LEN + plaintext.len()].copy_from_slice(plaintext);
        buf
    }

    /// [`Keyring::seal_binary_into`] for a plaintext already in place: `buf` is what
    /// [`Keyring::sealed_buffer`] made (`sealed_len(n)` bytes, the `n`-byte plaintext where
    /// the ciphertext goes), and becomes the binary envelope, the plaintext encrypted where
    /// it lies: no second copy exists to wipe, and the sealed buffer needs no wipe. If
    /// sealing fails, `buf` is wiped.
    ///
    /// # Errors
    /// As [`Keyring::seal`]; [`Error::InvalidArgument`] when `buf` is shorter than an empty
    /// plaintext's envelope (nothing is written).
    pub fn seal_binary_in_place(&self, owner: &str, context: &[u8], buf: &mut [u8]) -> Result<()> {
        let Some(n) = buf.len().checked_sub(HEADER_LEN + TAG_LEN) else {
            return Err(Error::InvalidArgument(
                "buffer is shorter than sealed_len(0)",
            ));
        };
        let mut nonce = [0u8; NONCE_LEN];
        let checked = kdf::check_owner(owner).and_then(|()| {
            if n > MAX_PLAINTEXT {
                return Err(Error::TooLarge {
                    limit: MAX_PLAINTEXT,
                });
            }
            fill_random(&mut nonce)
        });
        if let Err(e) = checked {
            buf.zeroize();
            return Err(e);
        }
        self.seal_placed(self.primary_kid(), owner, n, context, &nonce, buf)
    }

    fn primary_kid_checked(&self, owner: &str, plaintext: &[u8]) -> Result<u32> {
        kdf::check_owner(owner)?;
        if plaintext.len() > MAX_PLAINTEXT {
            return Err(Error::TooLarge {
                limit: MAX_PLAINTEXT,
            });
        }
        Ok(self.primary_kid())
    }

    /// Seals with a caller-chosen nonce, for test vectors and differential tests only.
    /// Reusing a nonce under one key and owner destroys GCM's security.
    ///
    /// # Errors
    /// As [`Keyring::seal`].
    #[cfg(any(test, feature = "internal"))]
    pub(crate) fn dangerous_seal_with_nonce(
        &self,
        owner: &str,
        plaintext: &[u8],
        context: &[u8],
        nonce: &[u8; NONCE_LEN],
    ) -> Result<String> {
        let kid = self.primary_kid_checked(owner, plaintext)?;
        Ok(encode_text(
            &self.seal_inner(kid, owner, plaintext, context, nonce)?,
        ))
    }

    /// Like [`Keyring::dangerous_seal_with_nonce`] but with an explicit AES backend.
    ///
    /// # Errors
    /// As [`Keyring::seal`].
    #[cfg(any(test, feature = "internal"))]
    pub(crate) fn dangerous_seal_with_backend(
        &self,
        backend: Backend,
        owner: &str,
        plaintext: &[u8],
        context: &[u8],
        nonce: &[u8; NONCE_LEN],
    ) -> Result<String> {
        let kid = self.primary_kid_checked(owner, plaintext)?;
        let kr = self.with_backend(backend);
        Ok(encode_text(
            &kr.seal_inner(kid, owner, plaintext, context, nonce)?,
        ))
    }

    /// Opens with an explicit AES backend (differential tests).
    ///
    /// # Errors
    /// As [`Keyring::open`].
    #[cfg(any(test, feature = "internal"))]
    pub(crate) fn dangerous_open_with_backend(
        &self,
        backend: Backend,
        owner: &str,
        envelope: &str,
        context: &[u8],
    ) -> Result<SecretBytes> {
        let kr = self.with_backend(backend);
        kr.open(owner, envelope, context)
    }

    /// Runs `f` with the owner's envelope cipher: on the RustCrypto backend the expanded
    /// cipher cached for this key and owner (made on a miss), otherwise a freshly derived key.
    fn with_envelope_cipher<T>(
        &self,
        m: &Material,
        owner: &str,
        f: impl FnOnce(Cipher<'_>) -> Result<T>,
    ) -> Result<T> {
        if self.backend() == Backend::RustCrypto {
            m.with_soft_cipher(
                owner,
                || self.envelope_key(m, owner),
                |k| f(Cipher::Soft(k)),
            )
        } else {
            let key = self.envelope_key(m, owner)?;
            f(Cipher::Raw(self.backend(), &key))
        }
    }

    fn envelope_key(&self, m: &Material, owner: &str) -> Result<Zeroizing<[u8; 32]>> {
        let mut key = Zeroizing::new([0u8; 32]);
        m.prk()
            .expand(LABEL_ENVELOPE, owner.as_bytes(), &mut key[..])?;
        Ok(key)
    }

    fn seal_inner(
        &self,
        kid: u32,
        owner: &str,
        plaintext: &[u8],
        context: &[u8],
        nonce: &[u8; NONCE_LEN],
    ) -> Result<Vec<u8>> {
        // Exactly sized (never grown), and wiped if sealing fails with the plaintext in it.
        let mut out = Zeroizing::new(vec![0u8; Self::sealed_len(plaintext.len())]);
        self.seal_into(kid, owner, plaintext, context, nonce, &mut out)?;
        Ok(std::mem::take(&mut *out))
    }

    /// Writes the envelope into `out`, which is exactly `sealed_len(plaintext.len())` bytes
    /// (the callers check): header, then the plaintext encrypted straight into it (out of
    /// place: no copy of the plaintext is made first), then the tag. On failure `out` is wiped.
    fn seal_into(
        &self,
        kid: u32,
        owner: &str,
        plaintext: &[u8],
        context: &[u8],
        nonce: &[u8; NONCE_LEN],
        out: &mut [u8],
    ) -> Result<()> {
        self.seal_with(kid, owner, Placed::From(plaintext), context, nonce, out)
    }

    /// [`Keyring::seal_into`] with the `n`-byte plaintext already at `HEADER_LEN..` of `out`
    /// (`sealed_len(n)` bytes, checked by the callers). On failure `out` is wiped.
    fn seal_placed(
        &self,
        kid: u32,
        owner: &str,
        n: usize,
        context: &[u8],
        nonce: &[u8; NONCE_LEN],
        out: &mut [u8],
    ) -> Result<()> {
        self.seal_with(kid, owner, Placed::InPlace(n), context, nonce, out)
    }

    fn seal_with(
        &self,
        kid: u32,
        owner: &str,
        plaintext: Placed<'_>,
        context: &[u8],
        nonce: &[u8; NONCE_LEN],
        out: &mut [u8],
    ) -> Result<()> {
        let snap = self.snapshot();
        let m = match snap.material(kid) {
            Ok(m) => m,
            Err(e) => {
                out.zeroize();
                return Err(e);
            }
        };
        let n = match plaintext {
            Placed::InPlace(n) => n,
            Placed::From(p) => p.len(),
        };
        let (header, rest) = out.split_at_mut(HEADER_LEN);
        header[0] = VERSION;
        header[1..5].copy_from_slice(&kid.to_be_bytes());
        header[5..].copy_from_slice(nonce);
        let (body, tag_out) = rest.split_at_mut(n);
        let sealed = with_aad(kid, owner, context, |aad| {
            self.with_envelope_cipher(m, owner, |c| match plaintext {
                Placed::InPlace(_) => c.seal(nonce, aad, body),
                Placed::From(p) => c.seal_to(nonce, aad, p, body),
            })
        });
        match sealed {
            Ok(tag) => {
                tag_out.copy_from_slice(&tag);
                Ok(())
            }
            Err(e) => {
                out.zeroize();
                Err(e)
            }
        }
    }

    /// Opens a text envelope sealed for `owner` and `context`.
    ///
    /// # Errors
    /// [`Error::Malformed`] for anything not `kc1`; [`Error::UnknownKey`], [`Error::KeyRetired`];
    /// [`Error::InvalidOwner`]; [`Error::DecryptFailed`] for a wrong owner, context or key, or tampering.
    pub fn open(&self, owner: &str, envelope: &str, context: &[u8]) -> Result<SecretBytes> {
        // Decrypted where the ciphertext lies in the decoded buffer, then moved to its
        // start: one buffer of the envelope's size, not a second one for the plaintext
        // (at 1 MiB the second allocation's fresh pages cost more than the move).
        let mut bin = Zeroizing::new(decode_text(envelope)?);
        let p = parse_binary(&bin)?;
        let (kid, nonce, tag, n) = (p.kid, p.nonce, p.tag, p.ciphertext.len());
        self.open_in(
            kid,
            &nonce,
            &tag,
            owner,
            context,
            &mut bin[HEADER_LEN..HEADER_LEN + n],
        )?;
        bin.copy_within(HEADER_LEN..HEADER_LEN + n, 0);
        // What lies past the plaintext now (its last bytes, the tag) is wiped before the
        // vector is cut to the plaintext: no stray plaintext bytes in its spare capacity.
        bin[n..].zeroize();
        bin.truncate(n);
        Ok(SecretBytes::new(std::mem::take(&mut *bin)))
    }

    /// [`Keyring::open`] for the binary form.
    ///
    /// # Errors
    /// As [`Keyring::open`].
    pub fn open_binary(&self, owner: &str, envelope: &[u8], context: &[u8]) -> Result<SecretBytes> {
        let p = parse_binary(envelope)?;
        // Decrypt into the buffer that is returned; on failure it is wiped (and on drop).
        let mut buf = SecretBytes::new(vec![0u8; p.ciphertext.len()]);
        self.open_parsed_into(&p, owner, context, buf.expose_secret_mut())?;
        Ok(buf)
    }

    /// [`Keyring::open_binary`] into a caller's buffer of exactly
    /// [`inspect_binary`]`(envelope).plaintext_len` bytes, for bindings that open straight
    /// into their runtime's own byte object: the plaintext then exists only in `out`, and
    /// no Rust copy is left to wipe. On any failure `out` is wiped.
    ///
    /// # Errors
    /// As [`Keyring::open`], checked first; then [`Error::InvalidArgument`] when `out` has
    /// another length (nothing is decrypted).
    pub fn open_binary_into(
        &self,
        owner: &str,
        envelope: &[u8],
        context: &[u8],
        out: &mut [u8],
    ) -> Result<()> {
        let p = parse_binary(envelope)?;
        self.open_parsed_into(&p, owner, context, out)
    }

    fn open_parsed_into(
        &self,
        p: &Parsed<'_>,
        owner: &str,
        context: &[u8],
        out: &mut [u8],
    ) -> Result<()> {
        kdf::check_owner(owner)?;
        // The key check comes before the length check (errors in the order of the
        // Vec forms); `open_in` repeats it, at no cost worth counting.
        self.snapshot().material(p.kid)?;
        if out.len() != p.ciphertext.len() {
            return Err(Error::InvalidArgument(
                "output length is not the plaintext length",
            ));
        }
        // Decrypted straight from the envelope into `out` (out of place: no copy first).
        self.open_with(
            p.kid,
            &p.nonce,
            &p.tag,
            owner,
            context,
            Placed::From(p.ciphertext),
            out,
        )
    }

    /// Decrypts `in_out` (the ciphertext) in place. On any failure `in_out` is wiped.
    fn open_in(
        &self,
        kid: u32,
        nonce: &[u8; NONCE_LEN],
        tag: &[u8; TAG_LEN],
        owner: &str,
        context: &[u8],
        in_out: &mut [u8],
    ) -> Result<()> {
        let n = in_out.len();
        self.open_with(kid, nonce, tag, owner, context, Placed::InPlace(n), in_out)
    }

    /// Decrypts into `out`: the ciphertext already there ([`Placed::InPlace`]), or from
    /// another buffer of `out`'s length. On any failure `out` is wiped.
    #[allow(clippy::too_many_arguments)] // private; the fields of a parsed envelope
    fn open_with(
        &self,
        kid: u32,
        nonce: &[u8; NONCE_LEN],
        tag: &[u8; TAG_LEN],
        owner: &str,
        context: &[u8],
        ciphertext: Placed<'_>,
        out: &mut [u8],
    ) -> Result<()> {
        let snap = self.snapshot();
        let opened = kdf::check_owner(owner)
            .and_then(|()| snap.material(kid))
            .and_then(|m| {
                with_aad(kid, owner, context, |aad| {
                    self.with_envelope_cipher(m, owner, |c| match ciphertext {
                        Placed::InPlace(_) => c.open(nonce, aad, out, tag),
                        Placed::From(ct) => c.open_to(nonce, aad, ct, tag, out),
                    })
                })
            });
        if opened.is_err() {
            out.zeroize();
        }
        opened
    }

    /// [`Keyring::open`], requiring the plaintext to be UTF-8.
    ///
    /// # Errors
    /// As [`Keyring::open`], and [`Error::Malformed`] with [`MalformedKind::Utf8`].
    pub fn open_text(&self, owner: &str, envelope: &str, context: &[u8]) -> Result<SecretString> {
        self.open(owner, envelope, context)?.into_string()
    }

    /// Whether the envelope was sealed under a key other than the primary (header only, no key used).
    ///
    /// # Errors
    /// [`Error::Malformed`].
    pub fn needs_rewrap(&self, envelope: &str) -> Result<bool> {
        let info: EnvelopeInfo = inspect(envelope)?;
        Ok(info.kid != self.primary_kid())
    }

    /// The envelope sealed under the primary key, or the same envelope if it already is.
    /// The plaintext exists only in a zeroizing buffer.
    ///
    /// # Errors
    /// As [`Keyring::open`] and [`Keyring::seal`].
    pub fn rewrap(&self, owner: &str, envelope: &str, context: &[u8]) -> Result<String> {
        let bin = decode_text(envelope)?;
        let p = parse_binary(&bin)?;
        kdf::check_owner(owner)?;
        if p.kid == self.primary_kid() {
            // Still authenticate it, so a rewrap never blesses a forged or misaddressed value.
            self.open_binary(owner, &bin, context)?;
            return Ok(envelope.to_owned());
        }
        let plain = self.open_binary(owner, &bin, context)?;
        self.seal(owner, plain.expose_secret(), context)
    }
}

/// The text form (`kc1.` + base64url) of a binary envelope, which is checked first.
///
/// # Errors
/// [`Error::Malformed`] when `envelope` is not a binary kc1 envelope.
pub fn envelope_text(envelope: &[u8]) -> Result<String> {
    parse_binary(envelope)?;
    Ok(encode_text(envelope))
}

/// The binary form of a text envelope, which is checked first.
///
/// # Errors
/// [`Error::Malformed`] when `envelope` is not a text kc1 envelope.
pub fn envelope_binary(envelope: &str) -> Result<Vec<u8>> {
    let bin = decode_text(envelope)?;
    parse_binary(&bin)?;
    Ok(bin)
}

#[cfg(test)]
mod aad_tests {
    use super::*;

    /// The stack-built AAD is byte-equal to the heap one, on both sides of the 256-byte
    /// boundary (which changes where it is built, never what it is).
    #[test]
    fn with_aad_equals_aad() {
        for (owner, ctx_len) in [
            ("t", 0),
            ("tenant-42", 14),
            ("o", 246),
            ("o", 247),
            ("ü", 300),
        ] {
            let ctx = vec![0xa5u8; ctx_len];
            let want = aad(7, owner, &ctx);
            assert_eq!(
                with_aad(7, owner, &ctx, <[u8]>::to_vec),
                want,
                "{owner} {ctx_len}"
            );
        }
        assert_eq!(
            &aad(1, "ab", b"c")[..],
            &[1, 0, 0, 0, 1, 0, 0, 0, 2, b'a', b'b', b'c']
        );
    }
}

#[cfg(test)]
mod text_codec_tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use proptest::prelude::*;

    /// The `base64` crate's strict URL_SAFE_NO_PAD decoding, which `decode_text` used before.
    fn reference(text: &str) -> Option<Vec<u8>> {
        URL_SAFE_NO_PAD.decode(text.strip_prefix(TEXT_PREFIX)?).ok()
    }

    proptest! {
        /// The text is byte for byte what the `base64` crate writes, and decodes back.
        #[test]
        fn encode_matches_base64_crate(bin in proptest::collection::vec(any::<u8>(), 0..300)) {
            let text = encode_text(&bin);
            prop_assert_eq!(&text, &format!("kc1.{}", URL_SAFE_NO_PAD.encode(&bin)));
            prop_assert_eq!(decode_text(&text).ok(), Some(bin));
        }

        /// Any text (arbitrary bytes of the base64url alphabet, padding and a few others, at
        /// every length mod 4) is accepted or refused exactly as the `base64` crate does.
        #[test]
        fn decode_agrees_with_base64_crate(body in "[A-Za-z0-9_=+/. -]{0,40}") {
            let text = format!("kc1.{body}");
            prop_assert_eq!(decode_text(&text).ok(), reference(&text));
        }

        /// Mutating one character of a valid text changes its fate the same way in both.
        #[test]
        fn decode_agrees_on_mutations(
            bin in proptest::collection::vec(any::<u8>(), 1..80),
            at in any::<prop::sample::Index>(),
            c in prop::char::range('\0', '\u{7f}'),
        ) {
            let mut chars: Vec<char> = encode_text(&bin).chars().collect();
            let i = 4 + at.index(chars.len() - 4);
            chars[i] = c;
            let text: String = chars.into_iter().collect();
            prop_assert_eq!(decode_text(&text).ok(), reference(&text));
        }
    }

    /// Non-canonical trailing bits and padding are refused (as before the switch).
    #[test]
    fn refuses_non_canonical_text() {
        for body in [
            "AB", "AAB", "AA==", "AAA=", "A", "AAAAA", "AA AA", "AA+A", "AA/A",
        ] {
            let text = format!("kc1.{body}");
            assert_eq!(
                decode_text(&text).err(),
                Some(Error::Malformed(MalformedKind::Base64)),
                "{body}"
            );
        }
        assert_eq!(decode_text("kc1.AA").ok(), Some(vec![0]));
        assert_eq!(decode_text("kc1.AAA").ok(), Some(vec![0, 0]));
    }
}

#[cfg(test)]
mod opened_len_tests {
    use super::*;

    /// A binary envelope of an `n`-byte plaintext, well formed enough for [`envelope_text`]
    /// (the length is all these tests look at).
    fn binary_of(n: usize) -> Vec<u8> {
        let mut bin = vec![0u8; Keyring::sealed_len(n)];
        bin[0] = VERSION;
        bin[4] = 1;
        bin
    }

    /// Every length up to that of a 300-byte plaintext's envelope gives the plaintext length
    /// of the one envelope (of plaintexts 0..=300) that has it (`sealed_len`, `envelope_text`),
    /// and `None` for every other length (shorter than the prefix, `% 4 == 1`, ...).
    #[test]
    fn inverts_sealed_len_and_envelope_text() {
        let mut of_binary = std::collections::BTreeMap::new();
        let mut of_text = std::collections::BTreeMap::new();
        let key = Keyring::generate().unwrap();
        for n in 0..=300usize {
            let bin = key.seal_binary("tenant", &vec![7u8; n], b"ctx").unwrap();
            assert_eq!(bin.len(), Keyring::sealed_len(n));
            assert_eq!(of_binary.insert(bin.len(), n), None);
            assert_eq!(of_text.insert(envelope_text(&bin).unwrap().len(), n), None);
        }
        for len in 0..=Keyring::sealed_len(300) {
            assert_eq!(
                Keyring::opened_len_binary(len),
                of_binary.get(&len).copied(),
                "{len}"
            );
        }
        let longest = *of_text.keys().last().unwrap();
        for len in 0..=longest {
            assert_eq!(
                Keyring::opened_len(len),
                of_text.get(&len).copied(),
                "{len}"
            );
        }
        for len in [0, 1, 3, 4, 5, 9, 47] {
            assert_eq!(Keyring::opened_len(len), None, "{len}");
        }
    }

    /// At the limit: a `MAX_PLAINTEXT` plaintext's envelope has a length, one a byte longer
    /// does not; and no length overflows.
    #[test]
    fn at_the_limits() {
        let max = binary_of(MAX_PLAINTEXT);
        assert_eq!(Keyring::opened_len_binary(max.len()), Some(MAX_PLAINTEXT));
        assert_eq!(
            Keyring::opened_len(envelope_text(&max).unwrap().len()),
            Some(MAX_PLAINTEXT)
        );
        let over = binary_of(MAX_PLAINTEXT + 1);
        assert!(envelope_text(&over).is_err());
        assert_eq!(Keyring::opened_len_binary(over.len()), None);
        let over_text = encode_text(&over).len();
        assert_eq!(Keyring::opened_len(over_text), None);
        // Every text length past the limit's: none.
        let max_text = envelope_text(&max).unwrap().len();
        assert!(over_text > max_text);
        for len in max_text + 1..=max_text + 8 {
            assert_eq!(Keyring::opened_len(len), None, "{len}");
        }
        for len in [usize::MAX, usize::MAX - 1, usize::MAX - 3] {
            assert_eq!(Keyring::opened_len(len), None);
            assert_eq!(Keyring::opened_len_binary(len), None);
        }
        // `% 4 == 1` after the prefix is never base64 of anything.
        for b64 in (1..4000).step_by(4) {
            assert_eq!(Keyring::opened_len(TEXT_PREFIX.len() + b64), None, "{b64}");
        }
    }

    /// Both are `const fn`: usable where a constant is needed.
    #[test]
    fn usable_in_const() {
        const EMPTY: Option<usize> = Keyring::opened_len(48);
        const EMPTY_BINARY: Option<usize> = Keyring::opened_len_binary(HEADER_LEN + TAG_LEN);
        assert_eq!((EMPTY, EMPTY_BINARY), (Some(0), Some(0)));
    }
}

#[cfg(test)]
mod seal_into_failure_tests {
    use super::*;

    /// A caller's `out` that already holds the plaintext (a binding copies it in before the
    /// seal, or a rotation retires the primary between the length check and the seal) is
    /// wiped when sealing fails after the checks: no plaintext is left in the runtime's buffer.
    #[test]
    fn out_is_wiped_when_sealing_fails() {
        let key = Keyring::generate().unwrap();
        let plaintext = [0x5au8; 64];
        let nonce = [0u8; NONCE_LEN];
        let mut out = vec![0x5au8; Keyring::sealed_len(plaintext.len())];
        let err = key
            .seal_into(0xdead_beef, "tenant", &plaintext, b"ctx", &nonce, &mut out)
            .unwrap_err();
        assert_eq!(err, Error::UnknownKey(0xdead_beef));
        assert!(out.iter().all(|&b| b == 0), "out not wiped");

        // In place: the plaintext already lies in `buf`.
        let mut buf = Keyring::sealed_buffer(&plaintext);
        let err = key
            .seal_placed(7, "tenant", plaintext.len(), b"ctx", &nonce, &mut buf)
            .unwrap_err();
        assert_eq!(err, Error::UnknownKey(7));
        assert!(buf.iter().all(|&b| b == 0), "buf not wiped");
        let mut buf = Keyring::sealed_buffer(&plaintext);
        assert!(key.seal_binary_in_place("", b"ctx", &mut buf).is_err());
        assert!(buf.iter().all(|&b| b == 0), "buf not wiped on a bad owner");
    }

    /// The public entry checks first and writes nothing when it refuses: `out` keeps what the
    /// caller put there (a binding's own buffer, which the binding wipes); a good call
    /// overwrites all of it with an envelope that opens.
    #[test]
    fn seal_binary_into_refusals_write_nothing() {
        let key = Keyring::generate().unwrap();
        let plaintext = [1u8; 16];
        let mut short = vec![0x77u8; Keyring::sealed_len(plaintext.len()) - 1];
        assert!(matches!(
            key.seal_binary_into("tenant", &plaintext, b"", &mut short),
            Err(Error::InvalidArgument(_))
        ));
        assert!(short.iter().all(|&b| b == 0x77));
        let mut out = vec![0x77u8; Keyring::sealed_len(plaintext.len())];
        assert!(key.seal_binary_into("", &plaintext, b"", &mut out).is_err());
        assert!(out.iter().all(|&b| b == 0x77));
        key.seal_binary_into("tenant", &plaintext, b"", &mut out)
            .unwrap();
        let opened = key.open_binary("tenant", &out, b"").unwrap();
        assert_eq!(opened.expose_secret(), &plaintext);
    }
}
