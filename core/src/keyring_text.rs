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
                let bytes = Zeroizing::new(
                    B64_INDIFFERENT
                        .decode(text.as_bytes())
                        .map_err(|_| Error::Malformed(MalformedKind::KeyringSecret))?,
                );
                if bytes.len() < MIN_ROOT_LEN || bytes.len() > MAX_ROOT_LEN {
                    return Err(Error::Malformed(MalformedKind::KeyringSecret));
                }
                if state == KeyState::Active {
                    active.push(k.kid);
                }
                Entry::live(state, SecretBytes::new(bytes.to_vec()))
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
    /// # Errors
    /// None in practice; the `Result` is kept for forward compatibility.
    pub fn export(&self) -> Result<SecretString> {
        let s = self.snapshot();
        let mut out = String::with_capacity(64 + 80 * s.keys.len());
        out.push_str(&format!(
            "{{\"version\":1,\"primary\":{},\"keys\":[",
            s.primary
        ));
        for (i, (kid, e)) in s.keys.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&format!(
                "{{\"kid\":{kid},\"state\":\"{}\"",
                e.state.as_str()
            ));
            if let Some(m) = &e.material {
                out.push_str(",\"secret\":\"");
                URL_SAFE_NO_PAD.encode_string(m.secret().expose_secret(), &mut out);
                out.push('"');
            }
            out.push('}');
        }
        out.push_str("]}");
        Ok(SecretString::new(out))
    }
}
