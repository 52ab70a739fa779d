//! The sending side of browser-direct delivery (HPKE, RFC 9180): `sealForDelivery` and
//! `deliveryKeyFingerprint`, no key pair. This file is also the whole API of the small delivery
//! module (`delivery/`, npm `keycustody-wasm/delivery`), which includes it: the same code, the
//! same checks and errors in both.

use crate::{bytes, js_string, BytesArg, JsResult, StrArg};
use wasm_bindgen::prelude::*;

/// The fingerprint of a `kcpk1.` public key, `kcfp1.XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX`:
/// the receiving VM shows it, and the page pins it with `sealForDelivery`'s
/// `expectedFingerprint`.
#[wasm_bindgen(js_name = deliveryKeyFingerprint)]
pub fn delivery_key_fingerprint(
    #[wasm_bindgen(js_name = publicKey)] public_key: &StrArg,
) -> JsResult<String> {
    let pk = js_string(public_key, "publicKey must be a string")?;
    Ok(keycustody::delivery_key_fingerprint(&pk)?)
}

/// Seals `plaintext` (at most 1 MiB) for the holder of `publicKey`, bound to `owner`
/// (HPKE base mode, X25519 + HKDF-SHA256 + AES-256-GCM): the `kcd1.` blob. The relay
/// in between cannot read it; but if it also serves `publicKey` it could serve its own,
/// so pass the fingerprint the VM shows as `expectedFingerprint`: any other key is
/// refused (`KC_CLAIM_MISMATCH`, claim `"delivery key fingerprint"`) before sealing.
#[wasm_bindgen(js_name = sealForDelivery)]
pub fn seal_for_delivery(
    #[wasm_bindgen(js_name = publicKey)] public_key: &StrArg,
    owner: &StrArg,
    plaintext: &BytesArg,
    #[wasm_bindgen(js_name = expectedFingerprint)] expected_fingerprint: Option<StrArg>,
) -> JsResult<String> {
    let pk = js_string(public_key, "publicKey must be a string")?;
    let owner = js_string(owner, "owner must be a string")?;
    let plaintext = bytes(plaintext, "plaintext must be a string or Uint8Array")?;
    let pin = match expected_fingerprint {
        Some(v) if !(v.is_undefined() || v.is_null()) => Some(js_string(
            &v,
            "expectedFingerprint must be a string, null or undefined",
        )?),
        _ => None,
    };
    Ok(match pin {
        Some(fp) => keycustody::seal_for_delivery_pinned(&pk, &owner, &plaintext, &fp)?,
        None => keycustody::seal_for_delivery(&pk, &owner, &plaintext)?,
    })
}
