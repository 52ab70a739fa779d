//! Every case of tests/vectors/wrapped_keyring_v1.json through core; cases with `inputs` are
//! also written again from their inputs (fixed salt, DEK and nonces) and must give `text`
//! byte for byte.

use keycustody::internal::{dangerous_pending_wrap_with, dangerous_wrap_with_passphrase_fixed};
use keycustody::{Argon2Params, Error, Keyring, WrappedKeyring};
use serde_json::Value;

fn h(s: &Value) -> Vec<u8> {
    hex::decode(s.as_str().unwrap()).unwrap()
}

fn arr<const N: usize>(v: &Value) -> [u8; N] {
    h(v).try_into().unwrap()
}

fn outcome(r: &Result<Keyring, Error>) -> (String, Option<String>) {
    match r {
        Ok(_) => ("ok".into(), None),
        Err(e) => (
            e.kind().into(),
            e.malformed_kind().map(|k| k.name().to_owned()),
        ),
    }
}

fn rewrite(c: &Value) {
    let i = &c["inputs"];
    let kr = Keyring::parse(i["keyring"].as_str().unwrap()).unwrap();
    let owner = i["owner"].as_str().unwrap();
    let w = match c["op"].as_str().unwrap() {
        "open_passphrase" => {
            let p = &i["params"];
            let params = Argon2Params {
                m_kib: p["m_kib"].as_u64().unwrap() as u32,
                t: p["t"].as_u64().unwrap() as u32,
                p: p["p"].as_u64().unwrap() as u32,
            };
            dangerous_wrap_with_passphrase_fixed(
                &kr,
                c["passphrase"].as_str().unwrap().as_bytes(),
                owner,
                params,
                &arr(&i["salt"]),
                &arr(&i["dek"]),
                &arr(&i["nonce"]),
                &arr(&i["iv"]),
            )
            .unwrap()
        }
        "open_dek" => {
            let p = dangerous_pending_wrap_with(
                &kr,
                i["kek_type"].as_str().unwrap(),
                i["kek_key"].as_str().unwrap(),
                owner,
                &arr(&i["dek"]),
                &arr(&i["nonce"]),
            )
            .unwrap();
            assert_eq!(p.header(), h(&i["header"]).as_slice());
            p.finish(&h(&i["wrapped_dek"])).unwrap()
        }
        op => panic!("inputs on op {op}"),
    };
    assert_eq!(w.header(), h(&i["header"]), "{}", c["name"]);
    assert_eq!(w.to_text(), c["text"].as_str().unwrap(), "{}", c["name"]);
}

#[test]
fn every_wrapped_keyring_vector() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/vectors/wrapped_keyring_v1.json"
    );
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let cases = doc["cases"].as_array().unwrap();
    assert!(cases.len() >= 40);
    let mut ops = std::collections::BTreeMap::<String, usize>::new();
    for c in cases {
        let name = c["name"].as_str().unwrap();
        let op = c["op"].as_str().unwrap();
        *ops.entry(op.to_owned()).or_default() += 1;
        let r = match op {
            "open_passphrase" => WrappedKeyring::parse(c["text"].as_str().unwrap())
                .and_then(|w| w.open_with_passphrase(c["passphrase"].as_str().unwrap().as_bytes())),
            "open_dek" => WrappedKeyring::parse(c["text"].as_str().unwrap())
                .and_then(|w| w.open_with_dek(&h(&c["dek"]))),
            "parse" => WrappedKeyring::parse(c["text"].as_str().unwrap())
                .map(|_| panic!("{name}: a parse case parsed")),
            "open_keyring" => Keyring::parse(c["platform"].as_str().unwrap())
                .unwrap()
                .open_keyring(
                    c["tenant"].as_str().unwrap(),
                    c["envelope"].as_str().unwrap(),
                ),
            other => panic!("{name}: unknown op {other}"),
        };
        let (kind, detail) = outcome(&r);
        assert_eq!(kind, c["expect"].as_str().unwrap(), "{name}");
        assert_eq!(
            detail.as_deref(),
            c.get("detail").and_then(Value::as_str),
            "{name}"
        );
        if let Ok(k) = r {
            assert_eq!(
                k.export().unwrap().expose_secret(),
                c["keyring"].as_str().unwrap(),
                "{name}"
            );
        }
        if c.get("inputs").is_some() {
            rewrite(c);
            // The parsed text writes back identically.
            let t = c["text"].as_str().unwrap();
            assert_eq!(WrappedKeyring::parse(t).unwrap().to_text(), t, "{name}");
        }
    }
    assert_eq!(ops.len(), 4, "{ops:?}");
}
