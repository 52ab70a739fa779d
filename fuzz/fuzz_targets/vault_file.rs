//! The vault file parser (`Vault::open_with`) on arbitrary bytes: never a panic, and nothing
//! that was not MACed under the vault key opens (no key material is in the corpus).
#![no_main]
use keycustody::Keyring;
use keycustody_cli::vault::Vault;
use keycustody_cli::vm::VmError;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = std::env::temp_dir().join(format!("kc-fuzz-vault-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("vault.json");
    std::fs::write(&path, data).expect("write input");
    let keyring = Keyring::from_secret(&[0x42; 32], 1).expect("fixed keyring");
    match Vault::open_with(&path, keyring) {
        // A forged vault would need the HMAC key derived from the keyring above.
        Ok(v) => panic!("a fuzzed vault file opened: {} names", v.names().count()),
        Err(VmError::VaultTampered | VmError::Core(_) | VmError::InvalidName) => {}
        Err(e) => panic!("unexpected error kind: {e}"),
    }
});
