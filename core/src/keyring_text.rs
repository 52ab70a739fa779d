//! The keyring's JSON text form (DESIGN §2):
//! `{"version":1,"primary":2,"keys":[{"kid":1,"state":"retired"},{"kid":2,"state":"active","secret":"<base64url>"}]}`.
//! Secrets are written as base64url without padding and read with or without it; a
//! retired key carries no secret.

use crate::error::{Error, MalformedKind, Result};
use crate::keyring::{
    Entry, KeyState, Keyring, State, MAX_KEYRING_TEXT, MAX_KEYS, MAX_ROOT_LEN, MIN_ROOT_LEN,
};
use crate::secret::{SecretBytes, SecretString};
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, URL_SAFE_NO_PAD};
use base64::engine::DecodePaddingMode;
use base64::{alphabet, Engine};
use std::collections::BTreeMap;
use zeroize::Zeroizing;

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyringJson {
    version: u32,
    primary: u32,
    keys: Vec<KeyJson>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyJson {
    kid: u32,
    state: String,
    #[serde(default)]
    secret: Option<Zeroizing<String>>,
}

const B64_INDIFFERENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

impl Keyring {
    /// Parses the JSON text form.
    ///
    /// # Errors
    /// [`Error::Malformed`] with a `Keyring*` kind; [`Error::TooLarge`] over 1 MiB.
    pub fn parse(text: &str) -> Result<Keyring> {
        if text.len() > MAX_KEYRING_TEXT {
            return Err(Error::TooLarge {
                limit: MAX_KEYRING_TEXT,
            });
        }
        // serde_json's messages can quote the input, so only the kind is kept.
        let j: KeyringJson =
            serde_json::from_str(text).map_err(|_| Error::Malformed(MalformedKind::KeyringJson))?;
        if j.version != 1 {
            return Err(Error::Malformed(MalformedKind::KeyringVersion));
        }
        if j.keys.len() > MAX_KEYS {
            return Err(Error::TooLarge { limit: MAX_KEYS });
        }
        let mut keys = BTreeMap::new();
        let mut active = Vec::new();
        for k in j.keys {
            if k.kid == 0 || keys.contains_key(&k.kid) {
                return Err(Error::Malformed(MalformedKind::KeyringKid));
            }
            let state =
                KeyState::parse(&k.state).ok_or(Error::Malformed(MalformedKind::KeyringJson))?;
            let entry = if state == KeyState::Retired {
                Entry::retired()
            } else {
                let text = k
                    .secret
                    .ok_or(Error::Malformed(MalformedKind::KeyringSecret))?;
                let bytes = decode_secret(text.as_bytes())?;
                if state == KeyState::Active {
                    active.push(k.kid);
                }
                Entry::live(state, bytes)
            };
            keys.insert(k.kid, entry);
        }
        if active != [j.primary] {
            return Err(Error::Malformed(MalformedKind::KeyringPrimary));
        }
        Ok(Keyring::from_state(State {
            primary: j.primary,
            keys,
        }))
    }

    /// The JSON text form, secrets as base64url without padding. Retired keys carry no secret.
    ///
    /// Written by serde_json into a buffer of exactly the text's length (measured by a
    /// first, counting pass), so no partly written copy is ever freed unwiped.
    ///
    /// # Errors
    /// None in practice; the `Result` is kept for forward compatibility.
    pub fn export(&self) -> Result<SecretString> {
        let s = self.snapshot();
        let doc = KeyringOut {
            version: 1,
            primary: s.primary,
            keys: s
                .keys
                .iter()
                .map(|(kid, e)| KeyOut {
                    kid: *kid,
                    state: e.state.as_str(),
                    secret: e
                        .material
                        .as_ref()
                        .map(|m| Base64Url(m.secret().expose_secret())),
                })
                .collect(),
        };
        let mut count = CountingWriter(0);
        serde_json::to_writer(&mut count, &doc)
            .map_err(|_| Error::InvalidArgument("keyring text"))?;
        let mut out = Zeroizing::new(Vec::with_capacity(count.0));
        serde_json::to_writer(&mut *out, &doc)
            .map_err(|_| Error::InvalidArgument("keyring text"))?;
        debug_assert_eq!(out.len(), out.capacity());
        // serde_json writes UTF-8 only; the failure branch is unreachable but wipes anyway.
        match String::from_utf8(std::mem::take(&mut *out)) {
            Ok(text) => Ok(SecretString::new(text)),
            Err(e) => {
                drop(Zeroizing::new(e.into_bytes()));
                Err(Error::InvalidArgument("keyring text"))
            }
        }
    }
}

/// Decodes a keyring secret (base64url, padded or not) into an exactly-sized buffer;
/// the decode buffer is wiped, on failure too.
fn decode_secret(text: &[u8]) -> Result<SecretBytes> {
    // The longest valid secret text: MAX_ROOT_LEN bytes, padded. Refusing longer ones first
    // keeps the buffer below sized by the limit, not by the input.
    if text.len() > MAX_ROOT_LEN.div_ceil(3) * 4 {
        return Err(Error::Malformed(MalformedKind::KeyringSecret));
    }
    let mut buf = Zeroizing::new(vec![0u8; base64::decoded_len_estimate(text.len())]);
    let n = B64_INDIFFERENT
        .decode_slice(text, &mut buf[..])
        .map_err(|_| Error::Malformed(MalformedKind::KeyringSecret))?;
    if !(MIN_ROOT_LEN..=MAX_ROOT_LEN).contains(&n) {
        return Err(Error::Malformed(MalformedKind::KeyringSecret));
    }
    Ok(SecretBytes::new(buf[..n].to_vec()))
}

/// The text form as written: field order is the format's (`version`, `primary`, `keys`;
/// `kid`, `state`, `secret`).
#[derive(serde::Serialize)]
struct KeyringOut<'a> {
    version: u32,
    primary: u32,
    keys: Vec<KeyOut<'a>>,
}

#[derive(serde::Serialize)]
struct KeyOut<'a> {
    kid: u32,
    state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<Base64Url<'a>>,
}

/// Secret bytes serialized as base64url without padding, encoded straight into the
/// serializer's output (`collect_str` of base64's `Base64Display`: no heap copy).
struct Base64Url<'a>(&'a [u8]);

impl serde::Serialize for Base64Url<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> core::result::Result<S::Ok, S::Error> {
        s.collect_str(&base64::display::Base64Display::new(
            self.0,
            &URL_SAFE_NO_PAD,
        ))
    }
}

/// Counts the bytes written to it (the first pass of [`Keyring::export`]).
struct CountingWriter(usize);

impl std::io::Write for CountingWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The serde writer produces the frozen text form byte for byte (the form the
    /// earlier hand-built writer produced), for every state.
    #[test]
    fn export_is_the_frozen_text_form() {
        let a = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
        let b = "QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl8";
        let text = format!(
            "{{\"version\":1,\"primary\":3,\"keys\":[{{\"kid\":1,\"state\":\"decrypt-only\",\"secret\":\"{a}\"}},{{\"kid\":2,\"state\":\"retired\"}},{{\"kid\":3,\"state\":\"active\",\"secret\":\"{b}\"}}]}}"
        );
        let kr = Keyring::parse(&text).unwrap();
        let out = kr.export().unwrap();
        assert_eq!(out.expose_secret(), text);
        // Padded input is written back unpadded.
        let padded = Keyring::parse(&text.replace(a, &format!("{a}="))).unwrap();
        assert_eq!(padded.export().unwrap().expose_secret(), text);
    }

    #[test]
    fn secret_length_limits() {
        let ok = URL_SAFE_NO_PAD.encode([7u8; MAX_ROOT_LEN]);
        assert_eq!(decode_secret(ok.as_bytes()).unwrap().len(), MAX_ROOT_LEN);
        let long = URL_SAFE_NO_PAD.encode([7u8; MAX_ROOT_LEN + 1]);
        assert_eq!(
            decode_secret(long.as_bytes()).unwrap_err(),
            Error::Malformed(MalformedKind::KeyringSecret)
        );
        let short = URL_SAFE_NO_PAD.encode([7u8; MIN_ROOT_LEN - 1]);
        assert_eq!(
            decode_secret(short.as_bytes()).unwrap_err(),
            Error::Malformed(MalformedKind::KeyringSecret)
        );
        assert!(decode_secret(b"****").is_err());
    }
}
