//! The proxy's view of the vault: keys re-read when the vault or key file changes.

use super::headers::Injected;
use crate::vault::{Location, Vault, VmError};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stamp {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: i64,
    mtime_nsec: i64,
    ctime: i64,
    ctime_nsec: i64,
}

pub(crate) fn stamp(p: &std::path::Path) -> Option<Stamp> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(p).ok()?;
    Some(Stamp {
        dev: m.dev(),
        ino: m.ino(),
        size: m.size(),
        mtime: m.mtime(),
        mtime_nsec: m.mtime_nsec(),
        ctime: m.ctime(),
        ctime_nsec: m.ctime_nsec(),
    })
}

/// Why a key is not available.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyError {
    /// The vault (or key file) could not be read or did not verify.
    VaultUnreadable,
    /// The vault has no secret of the route's name.
    Missing,
    /// The secret cannot be sent in a header (empty, control characters).
    Unusable,
}

type Keys = HashMap<String, Result<Injected, KeyError>>;

struct Snapshot {
    stamps: (Option<Stamp>, Option<Stamp>),
    keys: Keys,
    error: Option<KeyError>,
}

/// Keys by secret name, reloaded on change.
pub struct KeyStore {
    loc: Location,
    names: Vec<String>,
    current: RwLock<Arc<Snapshot>>,
    reload: Mutex<()>,
}

impl std::fmt::Debug for KeyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyStore")
            .field("names", &self.names)
            .finish_non_exhaustive()
    }
}

fn load(loc: &Location, names: &[String]) -> Result<(Vault, Keys), VmError> {
    let v = Vault::open(loc)?;
    let mut keys = HashMap::new();
    for n in names {
        let k = match v.get(n) {
            Ok(s) => Injected::new(s.expose_secret()).ok_or(KeyError::Unusable),
            Err(VmError::NoSuchSecret(_)) => Err(KeyError::Missing),
            Err(_) => Err(KeyError::VaultUnreadable),
        };
        keys.insert(n.clone(), k);
    }
    Ok((v, keys))
}

impl KeyStore {
    /// Loads the keys of `names` from the vault at `loc`, returning the store and the
    /// opened vault (for the audit log).
    ///
    /// # Errors
    /// When the vault cannot be opened at startup.
    pub fn open(loc: Location, names: Vec<String>) -> Result<(KeyStore, Vault), VmError> {
        let stamps = (stamp(&loc.vault), stamp(&loc.key_path()));
        let (v, keys) = load(&loc, &names)?;
        let s = KeyStore {
            loc,
            names,
            current: RwLock::new(Arc::new(Snapshot {
                stamps,
                keys,
                error: None,
            })),
            reload: Mutex::new(()),
        };
        Ok((s, v))
    }

    fn snapshot(&self) -> Arc<Snapshot> {
        match self.current.read() {
            Ok(g) => Arc::clone(&g),
            Err(p) => Arc::clone(&p.into_inner()),
        }
    }

    /// The key for secret `name`, re-reading the vault first if its file or the
    /// key file changed since the last read.
    ///
    /// # Errors
    /// [`KeyError`].
    pub fn get(&self, name: &str) -> Result<Injected, KeyError> {
        let now = (stamp(&self.loc.vault), stamp(&self.loc.key_path()));
        let mut snap = self.snapshot();
        if snap.stamps != now {
            let _g = match self.reload.lock() {
                Ok(g) => g,
                Err(p) => p.into_inner(),
            };
            snap = self.snapshot();
            if snap.stamps != now {
                let next = match load(&self.loc, &self.names) {
                    Ok((_, keys)) => Snapshot {
                        stamps: now,
                        keys,
                        error: None,
                    },
                    Err(e) => {
                        eprintln!("keycustody proxy: vault reload failed: {e}");
                        Snapshot {
                            stamps: now,
                            keys: HashMap::new(),
                            error: Some(KeyError::VaultUnreadable),
                        }
                    }
                };
                snap = Arc::new(next);
                match self.current.write() {
                    Ok(mut g) => *g = Arc::clone(&snap),
                    Err(p) => *p.into_inner() = Arc::clone(&snap),
                }
            }
        }
        if let Some(e) = snap.error {
            return Err(e);
        }
        snap.keys
            .get(name)
            .cloned()
            .unwrap_or(Err(KeyError::Missing))
    }
}
