//! Delivery (HPKE): key, fingerprint and blob parsers and `open_delivery` on arbitrary text;
//! nothing forged opens; a sealed blob opens for its owner only; a pin that is not the key's
//! own fingerprint never seals.
#![no_main]
use arbitrary::Arbitrary;
use keycustody::derive_delivery_keypair;
use keycustody::internal::{
    dangerous_seal_for_delivery_with_ikm, parse_blob, parse_fingerprint, parse_private_key,
    parse_public_key,
};
use keycustody::{delivery_key_fingerprint, open_delivery, seal_for_delivery_pinned, Error};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    text: &'a str,
    ikm: [u8; 32],
    plaintext: &'a [u8],
}

fuzz_target!(|i: Input| {
    let _ = parse_public_key(i.text);
    let _ = parse_private_key(i.text);
    if let Ok(raw) = parse_blob(i.text) {
        assert!(raw.len() >= 48);
    }
    let kp = derive_delivery_keypair(&[1u8; 32]).expect("keypair");
    let own = delivery_key_fingerprint(&kp.public_key).expect("fingerprint");
    if parse_fingerprint(i.text).is_ok() && i.text != own {
        assert!(seal_for_delivery_pinned(&kp.public_key, "tenant", b"x", i.text).is_err());
    }
    let sk = &kp.private_key;
    match open_delivery(sk.expose_secret(), "tenant", i.text) {
        Ok(_) => panic!("a fuzzer-made blob opened"),
        Err(Error::Malformed(_) | Error::TooLarge { .. } | Error::DecryptFailed) => {}
        Err(e) => panic!("unexpected error {e:?}"),
    }
    let _ = open_delivery(i.text, "tenant", i.text);
    let blob = dangerous_seal_for_delivery_with_ikm(&kp.public_key, "tenant", i.plaintext, &i.ikm)
        .expect("seal");
    let pt = open_delivery(sk.expose_secret(), "tenant", &blob).expect("open");
    assert_eq!(pt.expose_secret(), i.plaintext);
    assert_eq!(
        open_delivery(sk.expose_secret(), "other", &blob).unwrap_err(),
        Error::DecryptFailed
    );
});
