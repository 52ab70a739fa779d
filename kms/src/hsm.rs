//! `pkcs11`: the DEK wrapped by an AES-256 secret key in a PKCS#11 token (an HSM):
//! `wrapped_dek = iv12 || C_Encrypt(CKM_AES_GCM, iv12, AAD = header, tag 128 bits)` (§7).

use crate::uri::Pkcs11Uri;
use crate::{KekConfig, KmsError};
use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::aead::GcmParams;
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::types::{AuthPin, Ulong};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use zeroize::Zeroizing;

/// The KEK type name.
pub const KEK_TYPE: &str = keycustody::KEK_PKCS11;
/// Environment variable naming the PKCS#11 module (shared library) to load.
pub const MODULE_ENV: &str = "KEYCUSTODY_PKCS11_MODULE";
/// Environment variable holding the token's user PIN (when the URI has no `pin-source`).
pub const PIN_ENV: &str = "KEYCUSTODY_PKCS11_PIN";
/// Environment variable naming a file that holds the user PIN.
pub const PIN_FILE_ENV: &str = "KEYCUSTODY_PKCS11_PIN_FILE";

const IV_LEN: usize = 12;
const TAG_LEN: usize = 16;
const DEK_LEN: usize = 32;

fn unavailable(reason: &'static str) -> KmsError {
    KmsError::KekUnavailable {
        kek: KEK_TYPE,
        reason,
    }
}

/// One initialized context per module for the whole process: PKCS#11 allows one
/// `C_Initialize` per process, and `C_Finalize` (on drop) would end every other user's.
static MODULES: Mutex<Option<HashMap<PathBuf, Pkcs11>>> = Mutex::new(None);

fn context(module: &Path) -> Result<Pkcs11, KmsError> {
    let mut g = MODULES.lock().unwrap_or_else(PoisonError::into_inner);
    let map = g.get_or_insert_with(HashMap::new);
    if let Some(c) = map.get(module) {
        return Ok(c.clone());
    }
    let c = Pkcs11::new(module).map_err(|_| unavailable("module could not be loaded"))?;
    match c.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(_) => return Err(unavailable("module did not initialize")),
    }
    map.insert(module.to_path_buf(), c.clone());
    Ok(c)
}

fn read_pin_file(p: &Path) -> Result<AuthPin, KmsError> {
    let raw = crate::read_secret_file(p).map_err(|e| match e {
        KmsError::Core(keycustody::Error::InsecurePermissions) => e,
        _ => unavailable("PIN file could not be read"),
    })?;
    let s = std::str::from_utf8(&raw).map_err(|_| unavailable("PIN file is not UTF-8"))?;
    Ok(AuthPin::from(s.to_owned()))
}

fn pin(uri: &Pkcs11Uri, cfg: &KekConfig) -> Result<AuthPin, KmsError> {
    if let Some(p) = &uri.pin_file {
        return read_pin_file(p);
    }
    if let Some(p) = &cfg.pkcs11_pin {
        return Ok(AuthPin::from(p.as_str().to_owned()));
    }
    if let Some(p) = &cfg.pkcs11_pin_file {
        return read_pin_file(p);
    }
    Err(KmsError::MissingConfig(
        "KEYCUSTODY_PKCS11_PIN or KEYCUSTODY_PKCS11_PIN_FILE (or pin-source=file: in the URI)",
    ))
}

/// An open, logged-in session on the token the URI names, and the key object.
struct Opened {
    session: Session,
    key: ObjectHandle,
}

fn open(uri_text: &str, cfg: &KekConfig) -> Result<Opened, KmsError> {
    let uri = Pkcs11Uri::parse(uri_text)?;
    let module = cfg
        .pkcs11_module
        .as_deref()
        .ok_or(KmsError::MissingConfig(MODULE_ENV))?;
    let pin = pin(&uri, cfg)?;
    let ctx = context(module)?;
    let slots = ctx
        .get_slots_with_initialized_token()
        .map_err(|_| unavailable("slots could not be listed"))?;
    let mut found = None;
    for slot in slots {
        if uri.slot_id.is_some_and(|id| id != slot.id()) {
            continue;
        }
        let Ok(info) = ctx.get_token_info(slot) else {
            continue;
        };
        let matches = |want: &Option<String>, have: &str| {
            want.as_deref().is_none_or(|w| w == have.trim_end())
        };
        if matches(&uri.token, info.label())
            && matches(&uri.manufacturer, info.manufacturer_id())
            && matches(&uri.serial, info.serial_number())
            && matches(&uri.model, info.model())
        {
            if found.is_some() {
                return Err(KmsError::KeyNotFound(
                    "the PKCS#11 URI matches more than one token: add token= or serial=",
                ));
            }
            found = Some(slot);
        }
    }
    let slot = found.ok_or(KmsError::KeyNotFound(
        "no token matches the PKCS#11 URI (token/serial/manufacturer/model/slot-id)",
    ))?;
    let session = ctx
        .open_ro_session(slot)
        .map_err(|_| unavailable("session could not be opened"))?;
    match session.login(UserType::User, Some(&pin)) {
        Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {}
        Err(CkError::Pkcs11(
            RvError::PinIncorrect | RvError::PinInvalid | RvError::PinLenRange,
            _,
        )) => return Err(unavailable("PIN incorrect")),
        Err(CkError::Pkcs11(RvError::PinLocked, _)) => return Err(unavailable("PIN locked")),
        Err(_) => return Err(unavailable("login refused")),
    }
    drop(pin);
    let mut template = vec![
        Attribute::Class(ObjectClass::SECRET_KEY),
        Attribute::KeyType(KeyType::AES),
    ];
    if let Some(label) = &uri.object {
        template.push(Attribute::Label(label.as_bytes().to_vec()));
    }
    if let Some(id) = &uri.id {
        template.push(Attribute::Id(id.clone()));
    }
    let keys = session
        .find_objects(&template)
        .map_err(|_| unavailable("objects could not be searched"))?;
    let key = match keys.as_slice() {
        [k] => *k,
        [] => {
            return Err(KmsError::KeyNotFound(
                "no AES secret key on the token matches the PKCS#11 URI's object/id",
            ))
        }
        _ => {
            return Err(KmsError::KeyNotFound(
                "the PKCS#11 URI's object/id matches more than one key: add id=",
            ))
        }
    };
    Ok(Opened { session, key })
}

/// `iv12 || C_Encrypt(CKM_AES_GCM, iv12, AAD = header, 128-bit tag)` of the DEK.
///
/// # Errors
/// `InvalidKekSpec`/`KeyNotFound` for a URI that names no key, `MissingConfig` for a missing
/// module or PIN, `KekUnavailable` when the token cannot be used or refuses.
pub fn encrypt_dek(
    cfg: &KekConfig,
    uri: &str,
    dek: &[u8],
    header: &[u8],
) -> Result<Vec<u8>, KmsError> {
    let o = open(uri, cfg)?;
    let mut iv = [0u8; IV_LEN];
    keycustody::fill_random(&mut iv)?;
    let mut iv_param = iv;
    let params = GcmParams::new(&mut iv_param, header, Ulong::from(128u64))
        .map_err(|_| unavailable("GCM parameters refused"))?;
    let ct = o
        .session
        .encrypt(&Mechanism::AesGcm(params), o.key, dek)
        .map_err(|_| unavailable("C_Encrypt refused"))?;
    if ct.len() != dek.len() + TAG_LEN {
        return Err(unavailable("C_Encrypt returned an unexpected length"));
    }
    let mut out = Vec::with_capacity(IV_LEN + ct.len());
    out.extend_from_slice(&iv);
    out.extend_from_slice(&ct);
    Ok(out)
}

/// The DEK from `iv12 || ciphertext || tag`, in a wiped buffer.
///
/// # Errors
/// `DecryptFailed` for anything that does not open (wrong header/owner, wrong key,
/// tampering, a bad length); the errors of [`encrypt_dek`] before that.
pub fn decrypt_dek(
    cfg: &KekConfig,
    uri: &str,
    wrapped: &[u8],
    header: &[u8],
) -> Result<Zeroizing<Vec<u8>>, KmsError> {
    let o = open(uri, cfg)?;
    if wrapped.len() != IV_LEN + DEK_LEN + TAG_LEN {
        return Err(KmsError::Core(keycustody::Error::DecryptFailed));
    }
    let (iv, ct) = wrapped.split_at(IV_LEN);
    let mut iv = <[u8; IV_LEN]>::try_from(iv)
        .map_err(|_| KmsError::Core(keycustody::Error::DecryptFailed))?;
    let params = GcmParams::new(&mut iv, header, Ulong::from(128u64))
        .map_err(|_| KmsError::Core(keycustody::Error::DecryptFailed))?;
    let pt = o
        .session
        .decrypt(&Mechanism::AesGcm(params), o.key, ct)
        .map(Zeroizing::new)
        .map_err(|_| KmsError::Core(keycustody::Error::DecryptFailed))?;
    if pt.len() != DEK_LEN {
        return Err(KmsError::Core(keycustody::Error::DecryptFailed));
    }
    Ok(pt)
}
