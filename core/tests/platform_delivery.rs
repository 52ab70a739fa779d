//! Browser-direct delivery (HPKE RFC 9180): the RFC's vectors for our suite, read from
//! the `hpke` crate's packaged copy of the CFRG test-vectors file, and every failure path.
use keycustody::internal::{
    dangerous_hpke_seal_with_ikm, dangerous_seal_for_delivery_with_ikm, hpke_open_raw, parse_blob,
    parse_private_key, parse_public_key, DELIVERY_INFO, MAX_PLAINTEXT_LEN,
};
use keycustody::{delivery_public_key, derive_delivery_keypair};
use keycustody::{
    generate_delivery_keypair, open_delivery, seal_for_delivery, Error, MalformedKind,
};
use std::path::PathBuf;

fn hx(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

/// The CFRG/RFC 9180 vectors file shipped inside the `hpke` crate package.
fn rfc9180_vectors() -> serde_json::Value {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--locked", "--offline"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata");
    assert!(out.status.success(), "cargo metadata failed");
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let pkg = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "hpke")
        .expect("hpke package in metadata");
    let dir = PathBuf::from(pkg["manifest_path"].as_str().unwrap())
        .parent()
        .unwrap()
        .to_path_buf();
    let file = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("test-vectors")
        })
        .expect("test-vectors*.json in the hpke crate package");
    serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap()
}

#[test]
fn rfc9180_vectors_for_our_suite() {
    let all = rfc9180_vectors();
    let mut suites = 0;
    let mut checked = 0;
    for v in all.as_array().unwrap() {
        // Base mode, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM.
        if v["mode"] != 0 || v["kem_id"] != 0x20 || v["kdf_id"] != 1 || v["aead_id"] != 2 {
            continue;
        }
        suites += 1;
        let pk_r: [u8; 32] = hx(v["pkRm"].as_str().unwrap()).try_into().unwrap();
        let sk_r: [u8; 32] = hx(v["skRm"].as_str().unwrap()).try_into().unwrap();
        let ikm_e: [u8; 32] = hx(v["ikmE"].as_str().unwrap()).try_into().unwrap();
        let ikm_r = hx(v["ikmR"].as_str().unwrap());
        // DeriveKeyPair(ikmR) gives the vector's recipient keypair.
        let kp = derive_delivery_keypair(&ikm_r).unwrap();
        assert_eq!(parse_public_key(&kp.public_key).unwrap(), pk_r);
        assert_eq!(
            parse_private_key(kp.private_key.expose_secret())
                .unwrap()
                .expose_secret(),
            sk_r
        );
        let info = hx(v["info"].as_str().unwrap());
        let enc = hx(v["enc"].as_str().unwrap());
        // Single-shot = the first encryption (sequence number 0) of each context.
        let e0 = &v["encryptions"][0];
        let aad = hx(e0["aad"].as_str().unwrap());
        let pt = hx(e0["pt"].as_str().unwrap());
        let ct = hx(e0["ct"].as_str().unwrap());
        let sealed = dangerous_hpke_seal_with_ikm(&pk_r, &info, &aad, &pt, &ikm_e).unwrap();
        assert_eq!(&sealed[..32], enc.as_slice(), "enc");
        assert_eq!(&sealed[32..], ct.as_slice(), "ct");
        let opened = hpke_open_raw(&sk_r, &info, &aad, &sealed).unwrap();
        assert_eq!(opened.expose_secret(), pt.as_slice());
        checked += 1;
    }
    assert_eq!(suites, 1, "exactly one base-mode vector set for the suite");
    assert_eq!(checked, 1);
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
