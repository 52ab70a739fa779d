//! Runs tests/vectors/legacy_v1.json (made by pyca/cryptography and the real
//! `openssl enc`, see tests/interop/legacy_vectors.py) against the core's decoders.

use keycustody::{decrypt_legacy_pbkdf2_gcm, decrypt_openssl_enc, Pbkdf2GcmParams};

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn legacy_vectors() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/vectors/legacy_v1.json"
    );
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(doc["version"], 1);
    let cases = doc["cases"].as_array().unwrap();
    assert!(cases.len() >= 18);
    for c in cases {
        let name = c["name"].as_str().unwrap();
        let pw = unhex(c["password_hex"].as_str().unwrap());
        let iters = u32::try_from(c["iterations"].as_u64().unwrap()).unwrap();
        let got = match c["op"].as_str().unwrap() {
            "pbkdf2_gcm" => decrypt_legacy_pbkdf2_gcm(c["blob"].as_str().unwrap(), &pw, {
                let mut p = Pbkdf2GcmParams::default();
                p.iterations = iters;
                p
            }),
            "openssl_enc" => {
                decrypt_openssl_enc(&unhex(c["data_hex"].as_str().unwrap()), &pw, iters)
            }
            op => panic!("{name}: unknown op {op}"),
        };
        match c["expect"].as_str().unwrap() {
            "ok" => assert_eq!(
                got.unwrap_or_else(|e| panic!("{name}: {e}"))
                    .expose_secret(),
                &unhex(c["plaintext_hex"].as_str().unwrap())[..],
                "{name}"
            ),
            kind => assert_eq!(got.map(|_| ()).unwrap_err().kind(), kind, "{name}"),
        }
    }
}
