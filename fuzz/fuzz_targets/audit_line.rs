//! The audit log verifier (`Log::verify`) on arbitrary log text: never a panic; a non-empty
//! log that was not MACed under the audit key never verifies.
#![no_main]
use keycustody::Keyring;
use keycustody_cli::vm::log::Log;
use keycustody_cli::vm::VmError;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = std::env::temp_dir().join(format!("kc-fuzz-audit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("audit.jsonl");
    std::fs::write(&path, data).expect("write input");
    let _ = std::fs::remove_file(dir.join("audit.jsonl.head"));
    let keyring = Keyring::from_secret(&[0x42; 32], 1).expect("fixed keyring");
    let log = Log::new(path, keyring, "vm-fuzz".to_owned());
    match log.verify() {
        Ok(_) if data.iter().all(u8::is_ascii_whitespace) => {}
        Ok(_) => panic!("a fuzzed audit log verified"),
        Err(VmError::AuditBroken { .. } | VmError::Core(_)) => {}
        Err(e) => panic!("unexpected error kind: {e}"),
    }
});
