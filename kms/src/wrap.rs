//! Wrapping and unwrapping whole keyrings on core's `PendingWrap` / `WrappedKeyring`.

use crate::{aws, hsm, Kek, KekConfig, KmsError};
use keycustody::{
    is_wrapped_keyring, wrap_with_passphrase, Argon2Params, Error, Keyring, PendingWrap,
    TenantKeyringCache, WrappedKeyring, KEK_AWS_KMS, KEK_PASSPHRASE, KEK_PKCS11,
};
use std::sync::Arc;

/// Wraps `keyring` under `kek` for `owner` (`""` for the platform keyring): one KEK call
/// (KMS `Encrypt`, `C_Encrypt`) or, for a passphrase, Argon2id with default parameters and
/// the passphrase from `cfg`.
///
/// # Errors
/// As [`aws::encrypt_dek`] / [`hsm::encrypt_dek`]; [`KmsError::MissingConfig`] without a
/// passphrase; core's errors (`InvalidOwner`, ...).
pub fn wrap_keyring(
    keyring: &Keyring,
    kek: &Kek,
    owner: &str,
    cfg: &KekConfig,
) -> Result<WrappedKeyring, KmsError> {
    match kek {
        Kek::Passphrase(params) => {
            let pass = cfg.passphrase()?;
            Ok(wrap_with_passphrase(keyring, &pass, owner, *params)?)
        }
        Kek::AwsKms { key } => {
            let p = PendingWrap::new(keyring, KEK_AWS_KMS, key, owner)?;
            let wrapped = aws::encrypt_dek(cfg, key, p.dek(), owner)?;
            Ok(p.finish(&wrapped)?)
        }
        Kek::Pkcs11 { uri } => {
            let p = PendingWrap::new(keyring, KEK_PKCS11, uri, owner)?;
            let wrapped = hsm::encrypt_dek(cfg, uri, p.dek(), p.header())?;
            Ok(p.finish(&wrapped)?)
        }
    }
}

/// Unwraps through the KEK the text names: one KMS `Decrypt` (or one `C_Decrypt`, or
/// Argon2id), then the keyring is opened with the DEK.
///
/// # Errors
/// `DecryptFailed` for every failure to unwrap or open; `KekUnavailable` for a KEK that
/// cannot be reached or refuses, and for a type this crate does not call
/// (`"external"`: the application unwraps the DEK and calls `open_with_dek`).
pub fn unwrap_keyring(w: &WrappedKeyring, cfg: &KekConfig) -> Result<Keyring, KmsError> {
    match w.kek_type() {
        KEK_PASSPHRASE => Ok(w.open_with_passphrase(&cfg.passphrase()?)?),
        KEK_AWS_KMS => {
            let dek = aws::decrypt_dek(cfg, w.kek_key(), w.wrapped_dek(), w.owner())?;
            Ok(w.open_with_dek(&dek)?)
        }
        KEK_PKCS11 => {
            let dek = hsm::decrypt_dek(cfg, w.kek_key(), w.wrapped_dek(), &w.header())?;
            Ok(w.open_with_dek(&dek)?)
        }
        _ => Err(KmsError::Core(Error::KekUnavailable("external"))),
    }
}

/// A keyring from loaded text (an env var, a key file): a keyring's text form is parsed;
/// a wrapped keyring is unwrapped through the KEK it names (one KEK call).
///
/// # Errors
/// As [`Keyring::parse`], [`WrappedKeyring::parse`] and [`unwrap_keyring`].
pub fn load_keyring_text(text: &str, cfg: &KekConfig) -> Result<Keyring, KmsError> {
    if is_wrapped_keyring(text) {
        let w = WrappedKeyring::parse(text)?;
        unwrap_keyring(&w, cfg)
    } else {
        Ok(Keyring::parse(text)?)
    }
}

/// A CMEK tenant keyring (wrapped under the tenant's own KEK, owner = the tenant) through
/// `cache`: a cached one while it is fresh (no KEK call), else one unwrap (one KMS
/// `Decrypt`) whose result is cached at `now`. Revoking the tenant's key (or the KMS
/// becoming unreachable) takes effect once the cached entry is older than the TTL.
///
/// # Errors
/// `DecryptFailed` for a wrapped keyring whose owner is not `tenant` (no KEK call), and as
/// [`unwrap_keyring`]; nothing is cached then.
pub fn open_cmek_keyring(
    cache: &TenantKeyringCache,
    tenant: &str,
    wrapped_text: &str,
    cfg: &KekConfig,
    now: u64,
) -> Result<Arc<Keyring>, KmsError> {
    if let Some(k) = cache.get(tenant, now) {
        return Ok(k);
    }
    let w = WrappedKeyring::parse(wrapped_text)?;
    if w.owner() != tenant {
        return Err(KmsError::Core(Error::DecryptFailed));
    }
    let keyring = unwrap_keyring(&w, cfg)?;
    Ok(cache.insert(tenant, keyring, now))
}

/// [`Keyring::from_env`] that also takes a wrapped keyring of any type this crate calls
/// (`aws-kms`, `pkcs11`, `passphrase` from `cfg` or the environment): the one line an
/// application's startup needs, e.g. `keyring_from_env("KEYCUSTODY_KEYRING", &KekConfig::from_env())`.
///
/// # Errors
/// As [`Keyring::from_env`] and [`load_keyring_text`].
pub fn keyring_from_env(var: &str, cfg: &KekConfig) -> Result<Keyring, KmsError> {
    match Keyring::from_env(var) {
        Ok(k) if !cfg.has_passphrase() => Ok(k),
        // (Core also says MissingEnvVar for a wrapped keyring's missing passphrase.)
        Err(e @ Error::MissingEnvVar(_)) if std::env::var_os(var).is_none() => Err(e.into()),
        Err(e @ Error::TooLarge { .. }) => Err(e.into()),
        first => {
            let text = zeroize::Zeroizing::new(std::env::var(var).unwrap_or_default());
            if is_wrapped_keyring(&text) {
                return load_keyring_text(&text, cfg);
            }
            Ok(first?)
        }
    }
}

/// [`Keyring::from_file`] (the same permission checks) that also takes a wrapped keyring,
/// as [`keyring_from_env`].
///
/// # Errors
/// As [`Keyring::from_file`] and [`load_keyring_text`].
pub fn keyring_from_file(path: &std::path::Path, cfg: &KekConfig) -> Result<Keyring, KmsError> {
    match Keyring::from_file(path) {
        Ok(k) if !cfg.has_passphrase() => Ok(k),
        // Core checked the file first: its permission, I/O and size refusals stand.
        Err(e @ (Error::InsecurePermissions | Error::Io(_) | Error::TooLarge { .. })) => {
            Err(e.into())
        }
        first => {
            let bytes = zeroize::Zeroizing::new(
                std::fs::read(path).map_err(|e| KmsError::Core(Error::Io(e.kind())))?,
            );
            match std::str::from_utf8(&bytes) {
                Ok(text) if is_wrapped_keyring(text) => load_keyring_text(text, cfg),
                _ => Ok(first?),
            }
        }
    }
}

/// The Argon2id parameters of a `passphrase` key reference
/// (`argon2id$v=19$m=<KiB>,t=<n>,p=<n>$<salt>`).
fn argon2_params_of(key: &str) -> Result<Argon2Params, KmsError> {
    let bad = || KmsError::Core(Error::Malformed(keycustody::MalformedKind::WrappedKeyring));
    let mut parts = key.split('$');
    let (Some("argon2id"), Some("v=19"), Some(params)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(bad());
    };
    let mut p = Argon2Params::default();
    let mut it = params.split(',');
    for (name, slot) in [("m", &mut p.m_kib), ("t", &mut p.t), ("p", &mut p.p)] {
        let v = it
            .next()
            .and_then(|kv| kv.strip_prefix(name))
            .and_then(|kv| kv.strip_prefix('='))
            .ok_or_else(bad)?;
        *slot = v.parse().map_err(|_| bad())?;
    }
    if it.next().is_some() {
        return Err(bad());
    }
    Ok(p)
}

/// The KEK a wrapped keyring names (for a passphrase: with its Argon2id parameters).
///
/// # Errors
/// `KekUnavailable("external")` for a type this crate does not call; `InvalidKekSpec` /
/// `Malformed` for a reference that does not parse.
pub fn kek_of(w: &WrappedKeyring) -> Result<Kek, KmsError> {
    match w.kek_type() {
        KEK_PASSPHRASE => Ok(Kek::Passphrase(argon2_params_of(w.kek_key())?)),
        KEK_AWS_KMS => Kek::parse_spec(&format!("{KEK_AWS_KMS}:{}", w.kek_key())),
        KEK_PKCS11 => Kek::parse_spec(w.kek_key()),
        _ => Err(KmsError::Core(Error::KekUnavailable("external"))),
    }
}

/// Wraps `keyring` under the same KEK, and for the same owner, as `like` (after the keyring
/// changed: a key added, promoted, retired): one KEK call, a fresh DEK and nonce (and salt).
///
/// # Errors
/// As [`kek_of`] and [`wrap_keyring`].
pub fn rewrap_like(
    keyring: &Keyring,
    like: &WrappedKeyring,
    cfg: &KekConfig,
) -> Result<WrappedKeyring, KmsError> {
    wrap_keyring(keyring, &kek_of(like)?, like.owner(), cfg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argon2_params_round_trip_through_the_key_reference() {
        let k = Keyring::generate().unwrap();
        let p = Argon2Params {
            m_kib: 256,
            t: 2,
            p: 1,
        };
        let w = wrap_with_passphrase(&k, b"pw", "acme", p).unwrap();
        assert_eq!(kek_of(&w).unwrap(), Kek::Passphrase(p));
        let cfg = KekConfig::new().with_passphrase(b"pw");
        let k2 = Keyring::generate().unwrap();
        let w2 = rewrap_like(&k2, &w, &cfg).unwrap();
        assert_eq!(w2.owner(), "acme");
        assert_eq!(kek_of(&w2).unwrap(), Kek::Passphrase(p));
        assert_ne!(w2.kek_key(), w.kek_key(), "a fresh salt");
        assert_eq!(
            w2.open_with_passphrase(b"pw").unwrap().export().unwrap(),
            k2.export().unwrap()
        );
        for bad in [
            "argon2i$v=19$m=256,t=1,p=1$c2FsdA",
            "argon2id$v=16$m=256,t=1,p=1$c2FsdA",
            "argon2id$v=19$t=1,m=256,p=1$c2FsdA",
            "argon2id$v=19$m=256,t=1$c2FsdA",
            "argon2id$v=19$m=256,t=1,p=1,x=2$c2FsdA",
            "argon2id$v=19$m=x,t=1,p=1$c2FsdA",
        ] {
            assert!(argon2_params_of(bad).is_err(), "{bad}");
        }
    }
}
