//! Browser-direct delivery: HPKE base mode (X25519, HKDF-SHA256, AES-256-GCM),
//! AAD = owner. The browser seals a secret to a tenant VM's public key; the
//! control plane relays `kcd1.` text it cannot read. The control plane may also serve
//! the public key, and could serve its own: pin the VM's fingerprint
//! (`deliveryKeyFingerprint`) with `sealForDelivery`'s `expectedFingerprint`.

use crate::conv::{self, secret_buffer_copy, SecretText};
use crate::error::run;
use napi::bindgen_prelude::{BufferSlice, Unknown};
use napi::Env;
use napi_derive::napi;

/// A delivery key pair: publish `publicKey`, keep `privateKey` on the receiving machine.
#[napi(object, object_from_js = false)]
pub struct DeliveryKeypair {
    /// `kcsk1.<base64url>`: the private key. Keep it on the receiver; never log it.
    #[napi(ts_type = "string")]
    pub private_key: SecretText,
    /// `kcpk1.<base64url>`: the public key. Publish it.
    pub public_key: String,
}

impl std::fmt::Debug for DeliveryKeypair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeliveryKeypair")
            .field("public_key", &self.public_key)
            .finish_non_exhaustive()
    }
}

/// A fresh X25519 key pair for receiving delivered secrets.
///
/// @throws {Error} `KC_RANDOM_UNAVAILABLE`.
#[napi]
pub fn generate_delivery_keypair(env: &Env) -> napi::Result<DeliveryKeypair> {
    run(env, || {
        let kp = keycustody::generate_delivery_keypair()?;
        Ok(DeliveryKeypair {
            private_key: SecretText(kp.private_key),
            public_key: kp.public_key,
        })
    })
}

/// A key pair derived from at least 32 bytes of key material (RFC 9180 `DeriveKeyPair`),
/// e.g. `keyring.deriveKey("deliver", vmId)` for a VM whose key must be reproducible.
/// A string is taken as its UTF-8 bytes (as in keycustody-wasm and Python).
///
/// @throws {Error} `KC_INVALID_ARGUMENT` for less than 32 bytes.
#[napi]
pub fn derive_delivery_keypair(
    env: &Env,
    #[napi(ts_arg_type = "string | Uint8Array")] ikm: Unknown<'_>,
) -> napi::Result<DeliveryKeypair> {
    run(env, || {
        let ikm = conv::bytes(ikm, "ikm")?;
        let kp = keycustody::derive_delivery_keypair(ikm.as_slice())?;
        Ok(DeliveryKeypair {
            private_key: SecretText(kp.private_key),
            public_key: kp.public_key,
        })
    })
}

/// The public key (`kcpk1.`) of a private key (`kcsk1.`).
///
/// @throws {Error} `KC_MALFORMED`.
#[napi]
pub fn delivery_public_key(
    env: &Env,
    #[napi(ts_arg_type = "string")] private_key: Unknown<'_>,
) -> napi::Result<String> {
    run(env, || {
        let sk = conv::secret_string(private_key, "privateKey")?;
        Ok(keycustody::delivery_public_key(&sk)?)
    })
}

/// The fingerprint of a `kcpk1.` public key, `kcfp1.XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX`:
/// show it on the receiving VM, and pin it with `sealForDelivery`'s `expectedFingerprint`.
///
/// @throws {Error} `KC_MALFORMED`.
#[napi]
pub fn delivery_key_fingerprint(
    env: &Env,
    #[napi(ts_arg_type = "string")] public_key: Unknown<'_>,
) -> napi::Result<String> {
    run(env, || {
        let pk = conv::string(public_key, "publicKey")?;
        Ok(keycustody::delivery_key_fingerprint(&pk)?)
    })
}

/// Seals `plaintext` (at most 1 MiB) to `publicKey` for `owner`; returns `kcd1.` text.
/// With `expectedFingerprint` (the `kcfp1.` text the VM shows), a public key with any
/// other fingerprint is refused before anything is sealed.
///
/// @throws {Error} `KC_MALFORMED` (public key or fingerprint), `KC_CLAIM_MISMATCH` (the key's fingerprint is not `expectedFingerprint`), `KC_INVALID_OWNER`, `KC_TOO_LARGE`.
#[napi]
pub fn seal_for_delivery(
    env: &Env,
    #[napi(ts_arg_type = "string")] public_key: Unknown<'_>,
    #[napi(ts_arg_type = "string")] owner: Unknown<'_>,
    #[napi(ts_arg_type = "string | Uint8Array")] plaintext: Unknown<'_>,
    #[napi(ts_arg_type = "string | null")] expected_fingerprint: Option<Unknown<'_>>,
) -> napi::Result<String> {
    run(env, || {
        let pk = conv::string(public_key, "publicKey")?;
        let owner = conv::string(owner, "owner")?;
        let plaintext = conv::bytes(plaintext, "plaintext")?;
        let pin = conv::opt_string(expected_fingerprint, "expectedFingerprint")?;
        Ok(match pin {
            Some(fp) => {
                keycustody::seal_for_delivery_pinned(&pk, &owner, plaintext.as_slice(), &fp)?
            }
            None => keycustody::seal_for_delivery(&pk, &owner, plaintext.as_slice())?,
        })
    })
}

/// Opens a `kcd1.` blob sealed to this private key for `owner`; returns the plaintext.
///
/// @throws {Error} `KC_DECRYPT_FAILED` (wrong key or owner, tampering), `KC_MALFORMED`, `KC_INVALID_OWNER`, `KC_TOO_LARGE`.
#[napi]
pub fn open_delivery<'e>(
    env: &'e Env,
    #[napi(ts_arg_type = "string")] private_key: Unknown<'_>,
    #[napi(ts_arg_type = "string")] owner: Unknown<'_>,
    #[napi(ts_arg_type = "string")] blob: Unknown<'_>,
) -> napi::Result<BufferSlice<'e>> {
    run(env, || {
        let sk = conv::secret_string(private_key, "privateKey")?;
        let owner = conv::string(owner, "owner")?;
        let blob = conv::string(blob, "blob")?;
        let plain = keycustody::open_delivery(&sk, &owner, &blob)?;
        secret_buffer_copy(env, &plain)
    })
}
