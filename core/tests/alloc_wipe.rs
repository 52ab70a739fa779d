//! No freed heap block holds a secret (ISSUE 12, finding 6).
//!
//! A spying global allocator scans every block handed back to it (`dealloc`, and the
//! old block of a `realloc`, which the default `GlobalAlloc::realloc` frees through
//! `dealloc`) for marked secrets while a case runs: root keys (their bytes and their
//! base64url text in a keyring) and plaintexts (their bytes). A block that is freed
//! without being wiped first is a hit. Derived keys cannot be marked (they look random),
//! so the roots and plaintexts they come from stand in for them.
//!
//! The allocator is global, so everything runs in one `#[test]` function, one case at a
//! time; inputs are built before a case is armed and dropped after it is disarmed, so
//! only the library's own allocations are judged.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use keycustody::Keyring;

/// One period of the root-key marker: 24 bytes, so that base64 of the repeated unit is
/// the base64 of one unit repeated (no phase shift between periods).
const ROOT_UNIT: &[u8; 24] = b"ROOTMARK:kc-alloc-wipe!:";
/// One period of the plaintext marker.
const PLAIN_UNIT: &[u8; 24] = b"PLAINMARK/kc-alloc-wipe/";
/// A freed block holding this many consecutive bytes of a marker counts as a hit.
const WINDOW: usize = 12;

#[path = "support/spy.rs"]
mod spy;
use spy::armed;

#[global_allocator]
static GLOBAL: spy::Spy = spy::Spy;

/// Every `WINDOW`-byte window of a periodic marker, at every phase of its period.
fn windows_of(unit: &[u8]) -> Vec<Vec<u8>> {
    (0..unit.len())
        .map(|phase| {
            let mut w = vec![0u8; WINDOW];
            for (i, b) in w.iter_mut().enumerate() {
                *b = unit[(phase + i) % unit.len()];
            }
            w
        })
        .collect()
}

fn root() -> Vec<u8> {
    ROOT_UNIT.repeat(2) // 48 bytes: longer than 32, as the finding needs
}

/// A keyring text with `decrypt_only` decrypt-only keys below one active key, all with the
/// marked root.
fn keyring_text(decrypt_only: u32) -> String {
    let b64 = URL_SAFE_NO_PAD.encode(root());
    let mut keys: Vec<String> = (1..=decrypt_only)
        .map(|kid| format!("{{\"kid\":{kid},\"state\":\"decrypt-only\",\"secret\":\"{b64}\"}}"))
        .collect();
    let primary = decrypt_only + 1;
    keys.push(format!(
        "{{\"kid\":{primary},\"state\":\"active\",\"secret\":\"{b64}\"}}"
    ));
    format!(
        "{{\"version\":1,\"primary\":{primary},\"keys\":[{}]}}",
        keys.join(",")
    )
}

#[test]
fn no_freed_block_holds_a_marked_secret() {
    let root_b64 = URL_SAFE_NO_PAD.encode(ROOT_UNIT);
    assert_eq!(root_b64.len(), 32);
    let mut needles = windows_of(ROOT_UNIT);
    needles.extend(windows_of(root_b64.as_bytes()));
    needles.extend(windows_of(PLAIN_UNIT));
    spy::arm(&needles, WINDOW);

    // The spy works: a plain Vec<u8> holding the marker and then freed is a hit, and
    // so is the old block of a Vec grown by reallocation.
    let (hits, _, ()) = armed(|| drop(std::hint::black_box(root())));
    assert_eq!(hits, 1, "the spy must see an unwiped freed block");
    let (hits, _, ()) = armed(|| {
        let mut v = Vec::with_capacity(24);
        v.extend_from_slice(ROOT_UNIT);
        v.extend_from_slice(ROOT_UNIT); // reallocates: the old block is freed unwiped
        std::hint::black_box(zeroize::Zeroizing::new(v));
    });
    assert_eq!(hits, 1, "a reallocated block must be seen");

    let plaintext = PLAIN_UNIT.repeat(4);
    let mut failures = Vec::new();
    let mut check = |name: &str, (hits, largest, ()): (usize, usize, ())| {
        if hits != 0 {
            failures.push(format!(
                "{name}: {hits} freed block(s) held a marked secret (largest {largest} bytes)"
            ));
        }
    };

    // parse, and dropping the keyring it made.
    let text = keyring_text(4);
    check("parse", armed(|| drop(Keyring::parse(&text).unwrap())));
    let big = keyring_text(200);
    check(
        "parse (201 keys)",
        armed(|| drop(Keyring::parse(&big).unwrap())),
    );

    // from_file: a 0600 file of the same text.
    let dir = std::env::temp_dir().join(format!("kc-alloc-wipe-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("keyring.json");
    {
        use std::io::Write;
        let mut o = std::fs::OpenOptions::new();
        o.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
        o.open(&path).unwrap().write_all(text.as_bytes()).unwrap();
    }
    check(
        "from_file",
        armed(|| drop(Keyring::from_file(&path).unwrap())),
    );
    // A larger file too (many keys), where a growing read buffer reallocates more often.
    std::fs::write(&path, big.as_bytes()).unwrap();
    check(
        "from_file (201 keys)",
        armed(|| drop(Keyring::from_file(&path).unwrap())),
    );
    std::fs::remove_dir_all(&dir).unwrap();

    // export with 4 decrypt-only keys and 48-byte secrets, and with one key only.
    for (name, n) in [
        ("export (5 keys)", 4),
        ("export (1 key)", 0),
        ("export (201 keys)", 200),
    ] {
        let kr = Keyring::parse(&keyring_text(n)).unwrap();
        check(name, armed(|| drop(kr.export().unwrap())));
    }

    // seal, open, open_text, rewrap with a marked plaintext under a marked root.
    let kr = Keyring::parse(&keyring_text(0)).unwrap();
    check(
        "seal",
        armed(|| drop(kr.seal("tenant", &plaintext, b"ctx").unwrap())),
    );
    let env = kr.seal("tenant", &plaintext, b"ctx").unwrap();
    check(
        "open",
        armed(|| drop(kr.open("tenant", &env, b"ctx").unwrap())),
    );
    check(
        "open_text",
        armed(|| drop(kr.open_text("tenant", &env, b"ctx").unwrap())),
    );
    check(
        "open (wrong context)",
        armed(|| {
            kr.open("tenant", &env, b"other").unwrap_err();
        }),
    );
    kr.rotate().unwrap();
    check(
        "rewrap",
        armed(|| drop(kr.rewrap("tenant", &env, b"ctx").unwrap())),
    );
    drop(kr);

    // Delivery: open_delivery of a marked plaintext.
    let kp = keycustody::generate_delivery_keypair().unwrap();
    let blob = keycustody::seal_for_delivery(&kp.public_key, "vm-1", &plaintext).unwrap();
    let sk = kp.private_key.expose_secret();
    check(
        "open_delivery",
        armed(|| drop(keycustody::open_delivery(sk, "vm-1", &blob).unwrap())),
    );
    check(
        "seal_for_delivery",
        armed(|| drop(keycustody::seal_for_delivery(&kp.public_key, "vm-1", &plaintext).unwrap())),
    );

    assert!(failures.is_empty(), "{failures:#?}");
}
