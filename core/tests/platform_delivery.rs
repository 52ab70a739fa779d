//! Browser-direct delivery (HPKE RFC 9180): the RFC's vector for our suite (from the
//! CFRG test-vectors file), key fingerprints and pinning, and every failure path.
use keycustody::internal::{
    dangerous_hpke_seal_with_ikm, dangerous_seal_for_delivery_with_ikm, hpke_open_raw, parse_blob,
    parse_fingerprint, parse_private_key, parse_public_key, DELIVERY_INFO, FINGERPRINT_PREFIX,
    FINGERPRINT_TEXT_LEN, MAX_PLAINTEXT_LEN,
};
use keycustody::{
    delivery_key_fingerprint, generate_delivery_keypair, open_delivery, seal_for_delivery,
    seal_for_delivery_pinned, Error, MalformedKind,
};
use keycustody::{delivery_public_key, derive_delivery_keypair};
use sha2::{Digest, Sha256};

fn hx(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

/// The one base-mode vector for our suite (mode 0, DHKEM(X25519, HKDF-SHA256) 0x20,
/// HKDF-SHA256 1, AES-256-GCM 2) in the CFRG test-vectors file of RFC 9180
/// (github.com/cfrg/draft-irtf-cfrg-hpke, `test-vectors.json` at commit 5f503c5, the
/// copy hpke 0.13 shipped as `test-vectors-5f503c5.json`; hpke 0.15 no longer packages
/// it), first encryption (sequence number 0, what a single-shot seal produces).
struct Rfc9180Vector {
    info: &'static str,
    ikm_r: &'static str,
    ikm_e: &'static str,
    pk_rm: &'static str,
    sk_rm: &'static str,
    enc: &'static str,
    aad: &'static str,
    pt: &'static str,
    ct: &'static str,
}

const RFC9180_BASE_X25519_SHA256_AES256GCM: Rfc9180Vector = Rfc9180Vector {
    info: "4f6465206f6e2061204772656369616e2055726e",
    ikm_r: "dac33b0e9db1b59dbbea58d59a14e7b5896e9bdf98fad6891e99d1686492b9ee",
    ikm_e: "2cd7c601cefb3d42a62b04b7a9041494c06c7843818e0ce28a8f704ae7ab20f9",
    pk_rm: "430f4b9859665145a6b1ba274024487bd66f03a2dd577d7753c68d7d7d00c00c",
    sk_rm: "497b4502664cfea5d5af0b39934dac72242a74f8480451e1aee7d6a53320333d",
    enc: "6c93e09869df3402d7bf231bf540fadd35cd56be14f97178f0954db94b7fc256",
    aad: "436f756e742d30",
    pt: "4265617574792069732074727574682c20747275746820626561757479",
    ct:
        "e5d84cd531cfb583096e7cfa9641bd3079cf3a91cda813c52deb5f512be9931980a41de125a925cdad859d5b7a",
};

#[test]
fn rfc9180_vectors_for_our_suite() {
    let v = RFC9180_BASE_X25519_SHA256_AES256GCM;
    let pk_r: [u8; 32] = hx(v.pk_rm).try_into().unwrap();
    let sk_r: [u8; 32] = hx(v.sk_rm).try_into().unwrap();
    let ikm_e: [u8; 32] = hx(v.ikm_e).try_into().unwrap();
    // DeriveKeyPair(ikmR) gives the vector's recipient keypair.
    let kp = derive_delivery_keypair(&hx(v.ikm_r)).unwrap();
    assert_eq!(parse_public_key(&kp.public_key).unwrap(), pk_r);
    assert_eq!(
        parse_private_key(kp.private_key.expose_secret())
            .unwrap()
            .expose_secret(),
        sk_r
    );
    let (info, aad, pt, ct) = (hx(v.info), hx(v.aad), hx(v.pt), hx(v.ct));
    let sealed = dangerous_hpke_seal_with_ikm(&pk_r, &info, &aad, &pt, &ikm_e).unwrap();
    assert_eq!(&sealed[..32], hx(v.enc).as_slice(), "enc");
    assert_eq!(&sealed[32..], ct.as_slice(), "ct");
    let opened = hpke_open_raw(&sk_r, &info, &aad, &sealed).unwrap();
    assert_eq!(opened.expose_secret(), pt.as_slice());
    // One changed byte anywhere (enc, ciphertext, tag) does not open.
    for i in [0, 32, sealed.len() - 1] {
        let mut bad = sealed.clone();
        bad[i] ^= 0x80;
        assert_eq!(
            hpke_open_raw(&sk_r, &info, &aad, &bad).map(|_| ()),
            Err(Error::DecryptFailed),
            "byte {i}"
        );
    }
}

#[test]
fn seal_open_roundtrip() {
    let kp = generate_delivery_keypair().unwrap();
    assert!(kp.public_key.starts_with("kcpk1.") && kp.public_key.len() == 6 + 43);
    assert!(kp.private_key.expose_secret().starts_with("kcsk1."));
    assert!(!format!("{kp:?}").contains(kp.private_key.expose_secret()));
    assert_eq!(
        delivery_public_key(kp.private_key.expose_secret()).unwrap(),
        kp.public_key
    );
    let blob = seal_for_delivery(&kp.public_key, "tenant-42", b"sk-ant-secret").unwrap();
    assert!(blob.starts_with("kcd1."));
    let raw = parse_blob(&blob).unwrap();
    assert_eq!(raw.len(), 32 + 13 + 16);
    let pt = open_delivery(kp.private_key.expose_secret(), "tenant-42", &blob).unwrap();
    assert_eq!(pt.expose_secret(), b"sk-ant-secret");
    // Randomised: two seals differ.
    assert_ne!(
        blob,
        seal_for_delivery(&kp.public_key, "tenant-42", b"sk-ant-secret").unwrap()
    );
    // Empty plaintext is fine.
    let e = seal_for_delivery(&kp.public_key, "t", b"").unwrap();
    assert!(open_delivery(kp.private_key.expose_secret(), "t", &e)
        .unwrap()
        .is_empty());
}

#[test]
fn deterministic_seal_matches_raw_hpke() {
    let kp = derive_delivery_keypair(&[7u8; 32]).unwrap();
    let pk = parse_public_key(&kp.public_key).unwrap();
    let a = dangerous_seal_for_delivery_with_ikm(&kp.public_key, "o", b"x", &[9u8; 32]).unwrap();
    let raw = dangerous_hpke_seal_with_ikm(&pk, DELIVERY_INFO, b"o", b"x", &[9u8; 32]).unwrap();
    assert_eq!(parse_blob(&a).unwrap(), raw);
}

#[test]
fn open_failures_are_one_error() {
    let kp = generate_delivery_keypair().unwrap();
    let other = generate_delivery_keypair().unwrap();
    let sk = kp.private_key.expose_secret();
    let blob = seal_for_delivery(&kp.public_key, "tenant-a", b"secret").unwrap();
    assert_eq!(
        open_delivery(sk, "tenant-b", &blob).map(|_| ()),
        Err(Error::DecryptFailed)
    );
    assert_eq!(
        open_delivery(other.private_key.expose_secret(), "tenant-a", &blob).map(|_| ()),
        Err(Error::DecryptFailed)
    );
    let mut raw = parse_blob(&blob).unwrap();
    for i in [0, 31, 32, raw.len() - 1] {
        raw[i] ^= 1;
        let t = format!("kcd1.{}", base64_url(&raw));
        assert_eq!(
            open_delivery(sk, "tenant-a", &t).map(|_| ()),
            Err(Error::DecryptFailed),
            "byte {i}"
        );
        raw[i] ^= 1;
    }
    // A low-order point as enc (all zero): the X25519 output is zero, refused.
    let mut low = raw.clone();
    low[..32].fill(0);
    let t = format!("kcd1.{}", base64_url(&low));
    assert_eq!(
        open_delivery(sk, "tenant-a", &t).map(|_| ()),
        Err(Error::DecryptFailed)
    );
}

fn base64_url(b: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

#[test]
fn malformed_keys_and_blobs() {
    let kp = generate_delivery_keypair().unwrap();
    let m = Err(Error::Malformed(MalformedKind::DeliveryKey));
    let pk_body = kp.public_key.strip_prefix("kcpk1.").unwrap();
    for bad in [
        String::new(),
        "kcpk1.".into(),
        format!("kcpk2.{pk_body}"),
        format!("kcpk1.{}", &pk_body[1..]),
        format!("kcpk1.{pk_body}A"),
        format!("kcpk1.{pk_body}="),
        format!("kcpk1.{}", &pk_body.replace(&pk_body[..1], "+")),
        kp.private_key.expose_secret().to_owned(),
    ] {
        assert_eq!(seal_for_delivery(&bad, "t", b"x").map(|_| ()), m, "{bad}");
    }
    // Low-order public key (all zero, and the order-8 point 0xe0eb7a7c..): refused on seal.
    for low in [
        [0u8; 32].to_vec(),
        hex::decode("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800").unwrap(),
        {
            let mut one = [0u8; 32].to_vec();
            one[0] = 1;
            one
        },
    ] {
        let pk = format!("kcpk1.{}", base64_url(&low));
        assert_eq!(seal_for_delivery(&pk, "t", b"x").map(|_| ()), m, "{pk}");
    }
    let sk = kp.private_key.expose_secret();
    let blob = seal_for_delivery(&kp.public_key, "t", b"x").unwrap();
    for bad in [
        "",
        "kcd1.",
        "kcd1.AAAA",
        "kcd2.AAAA",
        "kcd1.!!!!",
        &blob.replace("kcd1.", "kc1."),
    ] {
        assert_eq!(open_delivery(sk, "t", bad).map(|_| ()), m, "{bad}");
    }
    assert_eq!(open_delivery(&kp.public_key, "t", &blob).map(|_| ()), m);
    assert_eq!(open_delivery("kcsk1.short", "t", &blob).map(|_| ()), m);
    assert_eq!(
        open_delivery(sk, "", &blob).map(|_| ()),
        Err(Error::InvalidOwner)
    );
    assert_eq!(
        seal_for_delivery(&kp.public_key, "", b"x").map(|_| ()),
        Err(Error::InvalidOwner)
    );
    let big = vec![0u8; MAX_PLAINTEXT_LEN + 1];
    assert_eq!(
        seal_for_delivery(&kp.public_key, "t", &big).map(|_| ()),
        Err(Error::TooLarge {
            limit: MAX_PLAINTEXT_LEN
        })
    );
    let huge = format!("kcd1.{}", "A".repeat(2 * MAX_PLAINTEXT_LEN));
    assert_eq!(
        open_delivery(sk, "t", &huge).map(|_| ()),
        Err(Error::TooLarge {
            limit: MAX_PLAINTEXT_LEN
        })
    );
    assert!(matches!(
        derive_delivery_keypair(&[1u8; 31]),
        Err(Error::InvalidArgument(_))
    ));
}

/// The fingerprint derivation of docs/delivery.md §4, written out independently: the
/// first 20 bytes of SHA-256(label || 0x00 || key), RFC 4648 base32, 8 groups of 4.
fn reference_fingerprint(pk: &[u8; 32]) -> String {
    let mut h = Sha256::new();
    h.update(b"keycustody/v1/delivery-key-fingerprint\0");
    h.update(pk);
    let d = h.finalize();
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    // 160 bits = 32 symbols of 5 bits, most significant first.
    let mut bits: u128 = 0;
    let mut nbits = 0;
    let mut sym = String::new();
    for &b in &d[..20] {
        bits = (bits << 8) | u128::from(b);
        nbits += 8;
        while nbits >= 5 {
            nbits -= 5;
            sym.push(ALPHABET[((bits >> nbits) & 31) as usize] as char);
        }
    }
    assert_eq!((sym.len(), nbits), (32, 0));
    let groups: Vec<&str> = (0..8).map(|i| &sym[i * 4..i * 4 + 4]).collect();
    format!("kcfp1.{}", groups.join("-"))
}

#[test]
fn fingerprint_matches_the_spec() {
    for seed in [0x42u8, 0x43, 7] {
        let kp = derive_delivery_keypair(&[seed; 32]).unwrap();
        let fp = delivery_key_fingerprint(&kp.public_key).unwrap();
        let pk = parse_public_key(&kp.public_key).unwrap();
        assert_eq!(fp, reference_fingerprint(&pk));
        assert_eq!(fp.len(), FINGERPRINT_TEXT_LEN);
        assert!(fp.starts_with(FINGERPRINT_PREFIX));
        // Strict parse round-trips to the digest's first 20 bytes.
        let d = Sha256::digest([&b"keycustody/v1/delivery-key-fingerprint\0"[..], &pk].concat());
        assert_eq!(parse_fingerprint(&fp).unwrap()[..], d[..20]);
    }
    // Distinct keys, distinct fingerprints; the fingerprint is of the public key only.
    let a = generate_delivery_keypair().unwrap();
    let b = generate_delivery_keypair().unwrap();
    assert_ne!(
        delivery_key_fingerprint(&a.public_key).unwrap(),
        delivery_key_fingerprint(&b.public_key).unwrap()
    );
    // A private key, or any bad key text, has no fingerprint.
    let m = Err(Error::Malformed(MalformedKind::DeliveryKey));
    for bad in [
        a.private_key.expose_secret().to_owned(),
        String::new(),
        "kcpk1.AAAA".into(),
        a.public_key.replacen("kcpk1.", "kcpk2.", 1),
    ] {
        assert_eq!(delivery_key_fingerprint(&bad), m, "{bad}");
    }
}

#[test]
fn fingerprint_parse_is_strict() {
    let kp = derive_delivery_keypair(&[0x42u8; 32]).unwrap();
    let fp = delivery_key_fingerprint(&kp.public_key).unwrap();
    assert!(parse_fingerprint(&fp).is_ok());
    let m = Err(Error::Malformed(MalformedKind::DeliveryKey));
    let body = fp.strip_prefix("kcfp1.").unwrap();
    for bad in [
        String::new(),
        "kcfp1.".into(),
        body.to_owned(),
        format!("kcfp2.{body}"),
        fp.to_lowercase(),
        format!("kcfp1.{}", body.replace('-', "")),
        format!("kcfp1.{}", body.replacen('-', " ", 1)),
        format!("{fp}-"),
        format!("{fp}A"),
        format!(" {fp}"),
        fp[..fp.len() - 1].to_owned(),
        // Groups of the wrong size with the right total length.
        format!("kcfp1.{}-{}", &body[..3], body[3..].replacen('-', "", 1)),
        // A symbol outside A-Z2-7 ('0', '1', '8', '9', '=').
        format!("kcfp1.0{}", &body[1..]),
        format!("kcfp1.1{}", &body[1..]),
        format!("kcfp1.8{}", &body[1..]),
        format!("kcfp1.={}", &body[1..]),
        // A multi-byte character.
        format!("kcfp1.\u{e9}{}", &body[2..]),
    ] {
        assert_eq!(parse_fingerprint(&bad).map(|_| ()), m, "{bad:?}");
        assert_eq!(
            seal_for_delivery_pinned(&kp.public_key, "t", b"x", &bad).map(|_| ()),
            m,
            "{bad:?}"
        );
    }
}

#[test]
fn pinned_seal_refuses_a_substituted_key() {
    let vm = generate_delivery_keypair().unwrap();
    let attacker = generate_delivery_keypair().unwrap();
    let pinned = delivery_key_fingerprint(&vm.public_key).unwrap();
    // The right key seals, and the VM opens it.
    let blob = seal_for_delivery_pinned(&vm.public_key, "acme", b"sk-ant-x", &pinned).unwrap();
    assert_eq!(
        open_delivery(vm.private_key.expose_secret(), "acme", &blob)
            .unwrap()
            .expose_secret(),
        b"sk-ant-x"
    );
    // A key served in its place (a compromised control plane) is refused before sealing.
    assert_eq!(
        seal_for_delivery_pinned(&attacker.public_key, "acme", b"sk-ant-x", &pinned),
        Err(Error::ClaimMismatch("delivery key fingerprint"))
    );
    // The pin is checked before the owner and size: a mismatch is reported as such.
    assert_eq!(
        seal_for_delivery_pinned(&attacker.public_key, "", b"x", &pinned),
        Err(Error::ClaimMismatch("delivery key fingerprint"))
    );
    // Otherwise the unpinned seal's errors are unchanged.
    assert_eq!(
        seal_for_delivery_pinned(&vm.public_key, "", b"x", &pinned).map(|_| ()),
        Err(Error::InvalidOwner)
    );
    assert_eq!(
        seal_for_delivery_pinned(
            &vm.public_key,
            "t",
            &vec![0u8; MAX_PLAINTEXT_LEN + 1],
            &pinned
        )
        .map(|_| ()),
        Err(Error::TooLarge {
            limit: MAX_PLAINTEXT_LEN
        })
    );
    // One flipped symbol of the pin is a mismatch, not a match.
    let mut other = pinned.clone().into_bytes();
    let last = other.len() - 1;
    other[last] = if other[last] == b'A' { b'B' } else { b'A' };
    let other = String::from_utf8(other).unwrap();
    assert_eq!(
        seal_for_delivery_pinned(&vm.public_key, "acme", b"x", &other),
        Err(Error::ClaimMismatch("delivery key fingerprint"))
    );
}
