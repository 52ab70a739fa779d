//! `tests/vectors/wrapped_keyring_v1.json` (DESIGN §7): passphrase-wrapped keyrings with
//! fixed salt, DEK and nonces; application-wrapped keyrings (any KEK type) with a fixed DEK;
//! tenant keyrings sealed under a platform keyring (kc1, context `keycustody/v1/keyring`);
//! and the refusals: wrong owner, tampered header, unknown field / version / kek field,
//! wrong passphrase, truncation, bad base64.
//!
//! Case shapes (`op`):
//! - `open_passphrase`: `text`, `passphrase` (UTF-8), `expect`; on `ok`, `keyring` (the text
//!   form the opened keyring exports) and `inputs` (everything a writer needs to produce
//!   `text` byte for byte: keyring, owner, params, salt, dek, nonce, iv; the header, hex).
//! - `open_dek`: `text`, `dek` (hex), `expect`; on `ok`, `keyring` and `inputs` (keyring,
//!   kek_type, kek_key, owner, dek, nonce, wrapped_dek, header).
//! - `parse`: `text`, `expect` (the error kind), `detail` (the malformed kind, when Malformed).
//! - `open_keyring`: `platform` (keyring text), `tenant`, `envelope`, `expect`; on `ok`, `keyring`.

use super::{b64, file, kr_other, kr_rotated, kr_single, nonce, seal};
use keycustody::internal::{dangerous_pending_wrap_with, dangerous_wrap_with_passphrase_fixed};
use keycustody::{Argon2Params, Error, Keyring, WrappedKeyring, KEYRING_CONTEXT};
use serde_json::{json, Value};

fn expect<T>(r: &Result<T, Error>) -> (String, Option<&'static str>) {
    match r {
        Ok(_) => ("ok".to_owned(), None),
        Err(e) => (e.kind().to_owned(), e.malformed_kind().map(|k| k.name())),
    }
}

/// The tenant keyring of the vectors: kid 1 decrypt-only (bytes 0x10..), kid 2 active (0x30..).
fn kr_tenant() -> String {
    let a: Vec<u8> = (0x10u8..0x30).collect();
    let b: Vec<u8> = (0x30u8..0x50).collect();
    format!(
        r#"{{"version":1,"primary":2,"keys":[{{"kid":1,"state":"decrypt-only","secret":"{}"}},{{"kid":2,"state":"active","secret":"{}"}}]}}"#,
        b64(&a),
        b64(&b)
    )
}

fn fixed(start: u8, n: usize) -> Vec<u8> {
    (0..n)
        .map(|i| start.wrapping_add(u8::try_from(i).unwrap()))
        .collect()
}

fn arr<const N: usize>(v: &[u8]) -> [u8; N] {
    v.try_into().unwrap()
}

const FAST: Argon2Params = Argon2Params {
    m_kib: 256,
    t: 1,
    p: 1,
};

struct Pass {
    keyring: String,
    passphrase: &'static str,
    owner: &'static str,
    params: Argon2Params,
    salt: Vec<u8>,
    dek: Vec<u8>,
    nonce: Vec<u8>,
    iv: Vec<u8>,
}

impl Pass {
    fn wrap(&self) -> WrappedKeyring {
        dangerous_wrap_with_passphrase_fixed(
            &Keyring::parse(&self.keyring).unwrap(),
            self.passphrase.as_bytes(),
            self.owner,
            self.params,
            &arr(&self.salt),
            &arr(&self.dek),
            &arr(&self.nonce),
            &arr(&self.iv),
        )
        .unwrap()
    }

    fn inputs(&self, w: &WrappedKeyring) -> Value {
        json!({
            "keyring": self.keyring,
            "owner": self.owner,
            "params": {"m_kib": self.params.m_kib, "t": self.params.t, "p": self.params.p},
            "salt": hex::encode(&self.salt),
            "dek": hex::encode(&self.dek),
            "nonce": hex::encode(&self.nonce),
            "iv": hex::encode(&self.iv),
            "header": hex::encode(w.header()),
        })
    }
}

fn open_passphrase(name: &str, description: &str, text: &str, passphrase: &str) -> Value {
    let r = WrappedKeyring::parse(text).and_then(|w| w.open_with_passphrase(passphrase.as_bytes()));
    let (e, detail) = expect(&r);
    let mut c = json!({
        "name": name, "description": description, "op": "open_passphrase",
        "text": text, "passphrase": passphrase, "expect": e,
    });
    if let Some(d) = detail {
        c["detail"] = json!(d);
    }
    if let Ok(k) = r {
        c["keyring"] = json!(k.export().unwrap().expose_secret());
    }
    c
}

fn open_dek(name: &str, description: &str, text: &str, dek: &[u8]) -> Value {
    let r = WrappedKeyring::parse(text).and_then(|w| w.open_with_dek(dek));
    let (e, detail) = expect(&r);
    let mut c = json!({
        "name": name, "description": description, "op": "open_dek",
        "text": text, "dek": hex::encode(dek), "expect": e,
    });
    if let Some(d) = detail {
        c["detail"] = json!(d);
    }
    if let Ok(k) = r {
        c["keyring"] = json!(k.export().unwrap().expose_secret());
    }
    c
}

fn parse(name: &str, description: &str, text: &str) -> Value {
    let r = WrappedKeyring::parse(text);
    let (e, detail) = expect(&r);
    assert_ne!(e, "ok", "{name}: a parse case must be refused");
    let mut c = json!({
        "name": name, "description": description, "op": "parse", "text": text, "expect": e,
    });
    if let Some(d) = detail {
        c["detail"] = json!(d);
    }
    c
}

fn open_keyring(
    name: &str,
    description: &str,
    platform: &str,
    tenant: &str,
    envelope: &str,
) -> Value {
    let r = Keyring::parse(platform)
        .unwrap()
        .open_keyring(tenant, envelope);
    let (e, detail) = expect(&r);
    let mut c = json!({
        "name": name, "description": description, "op": "open_keyring",
        "platform": platform, "tenant": tenant, "envelope": envelope, "expect": e,
    });
    if let Some(d) = detail {
        c["detail"] = json!(d);
    }
    if let Ok(k) = r {
        c["keyring"] = json!(k.export().unwrap().expose_secret());
    }
    c
}

/// `text` with one JSON member replaced (`path` = ["kek", "key"] etc.), field order kept.
fn edit(text: &str, path: &[&str], value: Value) -> String {
    let mut v: Value = serde_json::from_str(text).unwrap();
    let mut at = &mut v;
    for p in &path[..path.len() - 1] {
        at = &mut at[*p];
    }
    at[path[path.len() - 1]] = value;
    serde_json::to_string(&v).unwrap()
}

fn field(text: &str, name: &str) -> String {
    let v: Value = serde_json::from_str(text).unwrap();
    v[name].as_str().unwrap().to_owned()
}

fn unb64(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .unwrap()
}

pub(crate) fn wrapped_file() -> Value {
    let mut cases = Vec::new();

    // --- Passphrase (Argon2id) ---------------------------------------------------------
    let p_platform = Pass {
        keyring: kr_rotated(),
        passphrase: "correct horse battery staple",
        owner: "",
        params: FAST,
        salt: fixed(0x01, 16),
        dek: fixed(0x80, 32),
        nonce: nonce(41).to_vec(),
        iv: nonce(42).to_vec(),
    };
    let w = p_platform.wrap();
    let t_pass = w.to_text();
    let mut c = open_passphrase(
        "passphrase_platform",
        "the platform keyring (owner \"\") under a passphrase, m=256,t=1,p=1",
        &t_pass,
        p_platform.passphrase,
    );
    c["inputs"] = p_platform.inputs(&w);
    cases.push(c);

    let p_tenant = Pass {
        keyring: kr_tenant(),
        passphrase: "pässwörd 🔑",
        owner: "tenant-0001",
        params: Argon2Params {
            m_kib: 512,
            t: 2,
            p: 2,
        },
        salt: fixed(0x21, 16),
        dek: fixed(0xa0, 32),
        nonce: nonce(43).to_vec(),
        iv: nonce(44).to_vec(),
    };
    let w = p_tenant.wrap();
    let mut c = open_passphrase(
        "passphrase_tenant_unicode",
        "a tenant keyring under a non-ASCII passphrase, m=512,t=2,p=2",
        &w.to_text(),
        p_tenant.passphrase,
    );
    c["inputs"] = p_tenant.inputs(&w);
    cases.push(c);

    let p_default = Pass {
        keyring: kr_single(),
        passphrase: "the default parameters",
        owner: "",
        params: Argon2Params::default(),
        salt: fixed(0x41, 16),
        dek: fixed(0xc0, 32),
        nonce: nonce(45).to_vec(),
        iv: nonce(46).to_vec(),
    };
    let w = p_default.wrap();
    let mut c = open_passphrase(
        "passphrase_default_params",
        "the default Argon2id parameters m=65536,t=3,p=1",
        &w.to_text(),
        p_default.passphrase,
    );
    c["inputs"] = p_default.inputs(&w);
    cases.push(c);

    cases.push(open_passphrase(
        "passphrase_wrong",
        "a wrong passphrase",
        &t_pass,
        "correct horse battery stapler",
    ));
    cases.push(open_passphrase(
        "passphrase_empty",
        "an empty passphrase",
        &t_pass,
        "",
    ));
    let key = w_key(&t_pass);
    cases.push(open_passphrase(
        "passphrase_tampered_params",
        "m changed in the key string (another KEK, another header)",
        &edit(
            &t_pass,
            &["kek", "key"],
            json!(key.replace("m=256,", "m=264,")),
        ),
        p_platform.passphrase,
    ));
    let salt_b64 = b64(&p_platform.salt);
    let other_salt = b64(&fixed(0x02, 16));
    cases.push(open_passphrase(
        "passphrase_tampered_salt",
        "the salt changed in the key string",
        &edit(
            &t_pass,
            &["kek", "key"],
            json!(key.replace(&salt_b64, &other_salt)),
        ),
        p_platform.passphrase,
    ));
    cases.push(open_passphrase(
        "passphrase_wrong_owner",
        "the owner changed from \"\" to a tenant (header mismatch)",
        &edit(&t_pass, &["owner"], json!("tenant-0001")),
        p_platform.passphrase,
    ));
    let wd = unb64(&field(&t_pass, "wrapped_dek"));
    cases.push(open_passphrase(
        "passphrase_truncated_wrapped_dek",
        "wrapped_dek one byte short",
        &edit(&t_pass, &["wrapped_dek"], json!(b64(&wd[..wd.len() - 1]))),
        p_platform.passphrase,
    ));
    let mut wd2 = wd.clone();
    wd2[20] ^= 1;
    cases.push(open_passphrase(
        "passphrase_tampered_wrapped_dek",
        "one bit of the encrypted DEK flipped",
        &edit(&t_pass, &["wrapped_dek"], json!(b64(&wd2))),
        p_platform.passphrase,
    ));
    cases.push(open_passphrase(
        "passphrase_on_app_type",
        "a passphrase for a keyring whose KEK type is gcp-kms",
        &edit(&t_pass, &["kek", "type"], json!("gcp-kms")),
        p_platform.passphrase,
    ));
    cases.push(parse(
        "passphrase_m_too_large",
        "m above the 1 GiB bound: refused before any Argon2 work",
        &edit(
            &t_pass,
            &["kek", "key"],
            json!(key.replace("m=256,", "m=4194304,")),
        ),
    ));
    cases.push(parse(
        "passphrase_t_too_large",
        "t above 16",
        &edit(
            &t_pass,
            &["kek", "key"],
            json!(key.replace("t=1,", "t=1000,")),
        ),
    ));
    cases.push(parse(
        "passphrase_p_zero",
        "p of 0",
        &edit(&t_pass, &["kek", "key"], json!(key.replace("p=1$", "p=0$"))),
    ));
    cases.push(parse(
        "passphrase_key_not_canonical",
        "a leading zero in m",
        &edit(
            &t_pass,
            &["kek", "key"],
            json!(key.replace("m=256,", "m=0256,")),
        ),
    ));
    cases.push(parse(
        "passphrase_key_argon2i",
        "another Argon2 variant",
        &edit(
            &t_pass,
            &["kek", "key"],
            json!(key.replace("argon2id$", "argon2i$")),
        ),
    ));
    cases.push(parse(
        "passphrase_salt_15_bytes",
        "a 15-byte salt",
        &edit(
            &t_pass,
            &["kek", "key"],
            json!(key.replace(&salt_b64, &b64(&fixed(1, 15)))),
        ),
    ));

    // --- Application-wrapped (any KEK type, DEK unwrapped by the application) ------------
    let app = |kek_type: &str, kek_key: &str, owner: &str, dek: &[u8], n: u8, wrapped: &[u8]| {
        let kr = if owner.is_empty() {
            kr_rotated()
        } else {
            kr_tenant()
        };
        let p = dangerous_pending_wrap_with(
            &Keyring::parse(&kr).unwrap(),
            kek_type,
            kek_key,
            owner,
            &arr(dek),
            &nonce(n),
        )
        .unwrap();
        let header = p.header().to_vec();
        let w = p.finish(wrapped).unwrap();
        let inputs = json!({
            "keyring": kr, "kek_type": kek_type, "kek_key": kek_key, "owner": owner,
            "dek": hex::encode(dek), "nonce": hex::encode(nonce(n)),
            "wrapped_dek": hex::encode(wrapped), "header": hex::encode(header),
        });
        (w.to_text(), inputs)
    };
    let dek_g = fixed(0x60, 32);
    let (t_gcp, inputs) = app(
        "gcp-kms",
        "projects/p/locations/global/keyRings/r/cryptoKeys/k",
        "",
        &dek_g,
        51,
        b"gcp-kms ciphertext of the DEK (opaque to keycustody)",
    );
    let mut c = open_dek(
        "app_gcp_kms_platform",
        "the platform keyring wrapped by the application (type gcp-kms), fixed DEK",
        &t_gcp,
        &dek_g,
    );
    c["inputs"] = inputs;
    cases.push(c);
    let dek_v = fixed(0x70, 32);
    let (t_vault, inputs) = app(
        "vault-transit",
        "transit/keys/tenant-0001",
        "tenant-0001",
        &dek_v,
        52,
        b"vault:v1:opaque",
    );
    let mut c = open_dek(
        "app_vault_transit_tenant",
        "a tenant keyring (CMEK form) wrapped by the application (type vault-transit)",
        &t_vault,
        &dek_v,
    );
    c["inputs"] = inputs;
    cases.push(c);
    let dek_a = fixed(0x90, 32);
    let (t_aws, inputs) = app(
        "aws-kms",
        "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "tenant-0002",
        &dek_a,
        53,
        &fixed(0x01, 184),
    );
    let mut c = open_dek(
        "app_aws_kms_dek_given",
        "an aws-kms keyring opened with the DEK given (as after KMS Decrypt)",
        &t_aws,
        &dek_a,
    );
    c["inputs"] = inputs;
    cases.push(c);

    let mut wrong = dek_g.clone();
    wrong[31] ^= 1;
    cases.push(open_dek(
        "app_wrong_dek",
        "one bit of the DEK flipped",
        &t_gcp,
        &wrong,
    ));
    cases.push(open_dek(
        "app_dek_31_bytes",
        "a DEK of 31 bytes",
        &t_gcp,
        &dek_g[..31],
    ));
    cases.push(open_dek(
        "app_wrong_owner",
        "tenant-0001's keyring presented as tenant-0002's (owner changed)",
        &edit(&t_vault, &["owner"], json!("tenant-0002")),
        &dek_v,
    ));
    cases.push(open_dek(
        "app_owner_removed",
        "a tenant keyring presented as the platform's (owner \"\")",
        &edit(&t_vault, &["owner"], json!("")),
        &dek_v,
    ));
    cases.push(open_dek(
        "app_tampered_kek_key",
        "the KEK key reference changed",
        &edit(
            &t_gcp,
            &["kek", "key"],
            json!("projects/p/locations/global/keyRings/r/cryptoKeys/k2"),
        ),
        &dek_g,
    ));
    cases.push(open_dek(
        "app_tampered_kek_type",
        "the KEK type changed",
        &edit(&t_gcp, &["kek", "type"], json!("azure-keyvault")),
        &dek_g,
    ));
    let ct = unb64(&field(&t_gcp, "ciphertext"));
    cases.push(open_dek(
        "app_truncated_ciphertext",
        "the ciphertext three bytes short",
        &edit(&t_gcp, &["ciphertext"], json!(b64(&ct[..ct.len() - 3]))),
        &dek_g,
    ));
    let mut ct2 = ct.clone();
    ct2[5] ^= 0x20;
    cases.push(open_dek(
        "app_tampered_ciphertext",
        "one bit of the ciphertext flipped",
        &edit(&t_gcp, &["ciphertext"], json!(b64(&ct2))),
        &dek_g,
    ));
    let mut n2 = unb64(&field(&t_gcp, "nonce"));
    n2[0] ^= 1;
    cases.push(open_dek(
        "app_tampered_nonce",
        "one bit of the nonce flipped",
        &edit(&t_gcp, &["nonce"], json!(b64(&n2))),
        &dek_g,
    ));

    // --- Parse refusals --------------------------------------------------------------
    cases.push(parse(
        "unknown_field",
        "a member the format does not define",
        &t_gcp.replacen(",\"owner\"", ",\"comment\":\"x\",\"owner\"", 1),
    ));
    cases.push(parse(
        "unknown_kek_field",
        "a member inside \"kek\" the format does not define",
        &t_gcp.replacen("\"key\":", "\"region\":\"x\",\"key\":", 1),
    ));
    cases.push(parse(
        "unknown_version",
        "version 2",
        &t_gcp.replacen("\"version\":1", "\"version\":2", 1),
    ));
    cases.push(parse(
        "unknown_version_with_new_fields",
        "version 2 with a member version 1 lacks: the version is reported",
        &t_gcp.replacen("\"version\":1", "\"version\":2,\"aad\":\"\"", 1),
    ));
    cases.push(parse(
        "version_string",
        "the version as a string",
        &t_gcp.replacen("\"version\":1", "\"version\":\"1\"", 1),
    ));
    cases.push(parse("missing_nonce", "no nonce member", &{
        let mut v: Value = serde_json::from_str(&t_gcp).unwrap();
        v.as_object_mut().unwrap().remove("nonce");
        serde_json::to_string(&v).unwrap()
    }));
    cases.push(parse(
        "duplicate_field",
        "a member given twice",
        &t_gcp.replacen(",\"owner\":\"\"", ",\"owner\":\"\",\"owner\":\"\"", 1),
    ));
    let dek_field = field(&t_gcp, "wrapped_dek");
    cases.push(parse(
        "bad_base64_padding",
        "base64url with padding",
        &edit(&t_gcp, &["wrapped_dek"], json!(format!("{dek_field}=="))),
    ));
    cases.push(parse(
        "bad_base64_alphabet",
        "the standard alphabet ('+') instead of base64url",
        &edit(
            &t_gcp,
            &["ciphertext"],
            json!(format!("+{}", &field(&t_gcp, "ciphertext")[1..])),
        ),
    ));
    cases.push(parse(
        "bad_base64_length",
        "a base64url text of impossible length",
        &edit(&t_gcp, &["nonce"], json!("AAAAA")),
    ));
    cases.push(parse(
        "nonce_11_bytes",
        "a nonce of 11 bytes",
        &edit(&t_gcp, &["nonce"], json!(b64(&[0u8; 11]))),
    ));
    cases.push(parse(
        "ciphertext_shorter_than_tag",
        "a ciphertext of 15 bytes",
        &edit(&t_gcp, &["ciphertext"], json!(b64(&[0u8; 15]))),
    ));
    cases.push(parse(
        "empty_wrapped_dek",
        "an empty wrapped_dek",
        &edit(&t_gcp, &["wrapped_dek"], json!("")),
    ));
    cases.push(parse(
        "kek_type_invalid",
        "a KEK type outside [a-z0-9-]",
        &edit(&t_gcp, &["kek", "type"], json!("GCP KMS")),
    ));
    cases.push(parse(
        "kek_type_empty",
        "an empty KEK type",
        &edit(&t_gcp, &["kek", "type"], json!("")),
    ));
    cases.push(parse(
        "kek_key_empty",
        "an empty KEK key",
        &edit(&t_gcp, &["kek", "key"], json!("")),
    ));
    cases.push(parse(
        "owner_1025_bytes",
        "an owner over 1024 bytes",
        &edit(&t_gcp, &["owner"], json!("o".repeat(1025))),
    ));
    cases.push(parse(
        "truncated_text",
        "the text cut in the middle",
        &t_gcp[..t_gcp.len() / 2],
    ));
    cases.push(parse("not_an_object", "a JSON array", "[1]"));
    cases.push(parse("empty_text", "nothing", ""));

    // --- Tenant keyrings under the platform keyring (kc1) -------------------------------
    let tenant = "tenant-0001";
    let env = seal(
        &kr_single(),
        tenant,
        kr_tenant().as_bytes(),
        KEYRING_CONTEXT.as_bytes(),
        61,
    );
    cases.push(open_keyring(
        "tenant_keyring",
        "a tenant keyring sealed under the platform keyring (kc1, context keycustody/v1/keyring)",
        &kr_single(),
        tenant,
        &env,
    ));
    cases.push(open_keyring(
        "tenant_keyring_after_platform_rotation",
        "the same envelope under the rotated platform keyring (kid 1 decrypt-only)",
        &kr_rotated(),
        tenant,
        &env,
    ));
    let env2 = seal(
        &kr_rotated(),
        "tenant-0002",
        kr_tenant().as_bytes(),
        KEYRING_CONTEXT.as_bytes(),
        62,
    );
    cases.push(open_keyring(
        "tenant_keyring_kid2",
        "a tenant keyring sealed under kid 2 of the platform keyring",
        &kr_rotated(),
        "tenant-0002",
        &env2,
    ));
    cases.push(open_keyring(
        "tenant_keyring_wrong_tenant",
        "tenant-0001's keyring in tenant-0002's row",
        &kr_single(),
        "tenant-0002",
        &env,
    ));
    cases.push(open_keyring(
        "tenant_keyring_wrong_context",
        "the tenant keyring text sealed as ordinary data (context \"\")",
        &kr_single(),
        tenant,
        &seal(&kr_single(), tenant, kr_tenant().as_bytes(), b"", 63),
    ));
    cases.push(open_keyring(
        "tenant_keyring_other_platform",
        "under another platform keyring with the same kid",
        &kr_other(),
        tenant,
        &env,
    ));
    cases.push(open_keyring(
        "tenant_keyring_truncated",
        "the envelope three bytes short",
        &kr_single(),
        tenant,
        &format!(
            "kc1.{}",
            b64(&{
                let mut b = super::to_bin(&env);
                b.truncate(b.len() - 3);
                b
            })
        ),
    ));
    cases.push(open_keyring(
        "tenant_keyring_not_a_keyring",
        "an authentic envelope under the keyring context whose plaintext is not a keyring",
        &kr_single(),
        tenant,
        &seal(
            &kr_single(),
            tenant,
            b"{\"version\":1}",
            KEYRING_CONTEXT.as_bytes(),
            64,
        ),
    ));

    file(
        "Wrapped keyrings and tenant keyrings (DESIGN §7). Hex: dek, salt, nonce, iv, header, wrapped_dek in inputs; base64url without padding inside the texts. inputs let a writer reproduce text byte for byte. See xtask/src/wrapped.rs for the case shapes.",
        cases,
    )
}

fn w_key(text: &str) -> String {
    let v: Value = serde_json::from_str(text).unwrap();
    v["kek"]["key"].as_str().unwrap().to_owned()
}
