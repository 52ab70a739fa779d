//! `seal_binary_into` / `open_binary_into`: the same envelopes and the same errors as
//! `seal_binary` / `open_binary`, written into a caller's buffer (what the bindings use to
//! seal and open straight into their runtime's byte objects).

use keycustody::{inspect_binary, Error, Keyring, MalformedKind, MAX_PLAINTEXT};

fn sealed_into(kr: &Keyring, owner: &str, pt: &[u8], ctx: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; Keyring::sealed_len(pt.len())];
    kr.seal_binary_into(owner, pt, ctx, &mut out).unwrap();
    out
}

#[test]
fn into_and_vec_forms_interoperate_at_every_size() {
    let kr = Keyring::generate().unwrap();
    for n in [0usize, 1, 15, 16, 17, 64, 1000, 65_536 + 3] {
        let pt: Vec<u8> = (0..n).map(|i| (i * 7 + 3) as u8).collect();
        let a = sealed_into(&kr, "tenant-1", &pt, b"field");
        assert_eq!(a.len(), Keyring::sealed_len(n));
        assert_eq!(inspect_binary(&a).unwrap().plaintext_len, n);
        assert_eq!(
            kr.open_binary("tenant-1", &a, b"field")
                .unwrap()
                .expose_secret(),
            &pt[..]
        );
        let b = kr.seal_binary("tenant-1", &pt, b"field").unwrap();
        let mut out = vec![0xa5u8; n];
        kr.open_binary_into("tenant-1", &b, b"field", &mut out)
            .unwrap();
        assert_eq!(out, pt);
        // Fresh nonce per call: two seals differ.
        assert_ne!(a, sealed_into(&kr, "tenant-1", &pt, b"field"));
    }
}

#[test]
fn open_into_failure_wipes_the_buffer() {
    let kr = Keyring::generate().unwrap();
    let env = kr
        .seal_binary("tenant-1", b"secret plaintext", b"c")
        .unwrap();
    for (owner, ctx) in [("tenant-2", &b"c"[..]), ("tenant-1", &b"d"[..])] {
        let mut out = vec![0xa5u8; 16];
        assert_eq!(
            kr.open_binary_into(owner, &env, ctx, &mut out),
            Err(Error::DecryptFailed)
        );
        assert_eq!(out, [0u8; 16]);
    }
    let mut tampered = env.clone();
    *tampered.last_mut().unwrap() ^= 1;
    let mut out = vec![0xa5u8; 16];
    assert_eq!(
        kr.open_binary_into("tenant-1", &tampered, b"c", &mut out),
        Err(Error::DecryptFailed)
    );
    assert_eq!(out, [0u8; 16]);
}

#[test]
fn wrong_buffer_length_is_refused_with_nothing_written() {
    let kr = Keyring::generate().unwrap();
    for len in [0usize, 33, 35, 100] {
        let mut out = vec![0xa5u8; len];
        assert!(matches!(
            kr.seal_binary_into("t", b"x", b"", &mut out),
            Err(Error::InvalidArgument(_))
        ));
        assert!(out.iter().all(|&b| b == 0xa5));
    }
    let env = kr.seal_binary("t", b"four", b"").unwrap();
    for len in [0usize, 3, 5] {
        let mut out = vec![0xa5u8; len];
        assert!(matches!(
            kr.open_binary_into("t", &env, b"", &mut out),
            Err(Error::InvalidArgument(_))
        ));
        assert!(out.iter().all(|&b| b == 0xa5));
    }
}

#[test]
fn errors_come_in_the_order_of_the_vec_forms() {
    let kr = Keyring::generate().unwrap();
    let mut out = [0u8; 0];
    // Owner before length, as seal_binary; malformed envelope before owner, as open_binary.
    assert_eq!(
        kr.seal_binary_into("", b"x", b"", &mut out),
        Err(Error::InvalidOwner)
    );
    assert_eq!(
        kr.open_binary_into("", b"junk", b"", &mut out),
        Err(Error::Malformed(MalformedKind::EnvelopeLength))
    );
    let env = kr.seal_binary("t", b"", b"").unwrap();
    assert_eq!(
        kr.open_binary_into("", &env, b"", &mut out),
        Err(Error::InvalidOwner)
    );
    let other = Keyring::generate().unwrap();
    other.rotate().unwrap();
    let env2 = other.seal_binary("t", b"", b"").unwrap();
    assert_eq!(
        kr.open_binary_into("t", &env2, b"", &mut out),
        Err(Error::UnknownKey(2))
    );
    assert_eq!(
        Keyring::sealed_len(usize::MAX),
        usize::MAX,
        "saturates instead of wrapping"
    );
    assert_eq!(Keyring::sealed_len(MAX_PLAINTEXT), MAX_PLAINTEXT + 33);
}

/// `sealed_buffer` + `seal_binary_in_place` (the async seal's one plaintext copy, sealed
/// where it lies): envelopes that open like `seal_binary`'s, at every size.
#[test]
fn in_place_seal_opens_like_seal_binary() {
    let kr = Keyring::generate().unwrap();
    for n in [0usize, 1, 16, 17, 1000, 65_536 + 3] {
        let pt: Vec<u8> = (0..n).map(|i| (i * 5 + 1) as u8).collect();
        let mut buf = Keyring::sealed_buffer(&pt);
        assert_eq!(buf.len(), Keyring::sealed_len(n));
        kr.seal_binary_in_place("tenant-1", b"field", &mut buf)
            .unwrap();
        assert_eq!(inspect_binary(&buf).unwrap().plaintext_len, n);
        assert_eq!(
            kr.open_binary("tenant-1", &buf, b"field")
                .unwrap()
                .expose_secret(),
            &pt[..]
        );
        assert_eq!(
            kr.open_binary("tenant-1", &buf, b"other"),
            Err(Error::DecryptFailed)
        );
        if n >= 16 {
            // Encrypted where it lies: the plaintext is no longer in the buffer.
            assert!(!buf.windows(16).any(|w| w == &pt[..16]));
        }
    }
}

#[test]
fn in_place_seal_refusals_wipe_or_leave_the_buffer() {
    let kr = Keyring::generate().unwrap();
    // Shorter than an empty plaintext's envelope: refused, nothing written.
    let mut short = vec![0xa5u8; Keyring::sealed_len(0) - 1];
    assert!(matches!(
        kr.seal_binary_in_place("tenant-1", b"", &mut short),
        Err(Error::InvalidArgument(_))
    ));
    assert_eq!(short, vec![0xa5u8; Keyring::sealed_len(0) - 1]);
    // A bad owner: refused, and the plaintext in the buffer is wiped.
    let mut buf = Keyring::sealed_buffer(b"secret plaintext");
    assert_eq!(
        kr.seal_binary_in_place("", b"", &mut buf),
        Err(Error::InvalidOwner)
    );
    assert!(buf.iter().all(|&b| b == 0));
    // Over the limit: TooLarge, like seal_binary.
    let mut big = vec![0u8; Keyring::sealed_len(MAX_PLAINTEXT + 1)];
    assert_eq!(
        kr.seal_binary_in_place("tenant-1", b"", &mut big),
        Err(Error::TooLarge {
            limit: MAX_PLAINTEXT
        })
    );
}

/// `open` decrypts in the decoded buffer and moves the plaintext to its start: exact
/// plaintexts at sizes on both sides of the header and tag lengths (overlapping moves
/// included), and the same refusals as `open_binary`.
#[test]
fn text_open_in_place_gives_exact_plaintexts() {
    let kr = Keyring::generate().unwrap();
    for n in [0usize, 1, 15, 16, 17, 18, 33, 34, 100, 4096, 65_537] {
        let pt: Vec<u8> = (0..n).map(|i| (i * 11 + 7) as u8).collect();
        let env = kr.seal("tenant-1", &pt, b"f").unwrap();
        let opened = kr.open("tenant-1", &env, b"f").unwrap();
        assert_eq!(opened.expose_secret(), &pt[..], "n = {n}");
        assert_eq!(kr.open("tenant-2", &env, b"f"), Err(Error::DecryptFailed));
        assert_eq!(kr.open("tenant-1", &env, b"g"), Err(Error::DecryptFailed));
        assert_eq!(kr.open("", &env, b"f"), Err(Error::InvalidOwner));
    }
}
