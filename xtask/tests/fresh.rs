//! The committed vector files are exactly what the generator writes.

#[test]
fn committed_vectors_are_fresh() {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    for (path, text) in xtask::vector_files() {
        let committed = std::fs::read_to_string(root.join(path))
            .unwrap_or_else(|e| panic!("{path}: {e} (run `cargo run -p xtask -- vectors`)"));
        assert!(
            committed == text,
            "{path} differs from the generator's output: run `cargo run -p xtask -- vectors` and commit"
        );
    }
}

#[test]
fn generation_is_deterministic() {
    assert_eq!(xtask::vector_files(), xtask::vector_files());
}

/// The cases the format's design calls for are present, with the error each must give.
#[test]
fn required_cases_are_present() {
    let files = xtask::vector_files();
    let cases = |file: &str| -> Vec<(String, String, String)> {
        let text = &files.iter().find(|(p, _)| p.ends_with(file)).unwrap().1;
        let v: serde_json::Value = serde_json::from_str(text).unwrap();
        v["cases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["name"].as_str().unwrap().to_owned(),
                    c["op"].as_str().unwrap().to_owned(),
                    c["expect"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let want = |file: &str, required: &[(&str, &str, &str)]| {
        let have = cases(file);
        for (name, op, expect) in required {
            assert!(
                have.iter()
                    .any(|(n, o, e)| n == name && o == op && e == expect),
                "{file}: missing {name} ({op} -> {expect})"
            );
        }
        have
    };
    let env = want(
        "envelope_v1.json",
        &[
            ("basic", "open", "ok"),
            ("empty_plaintext", "open", "ok"),
            ("unicode_owner", "open", "ok"),
            ("owner_1024_bytes", "open", "ok"),
            ("owner_1025_bytes", "open", "InvalidOwner"),
            ("long_context", "open", "ok"),
            ("rotated_kid2_primary", "open", "ok"),
            ("wrong_owner", "open", "DecryptFailed"),
            ("wrong_context", "open", "DecryptFailed"),
            ("flip_version_bit", "open", "Malformed"),
            ("flip_kid_bit", "open", "UnknownKey"),
            ("flip_nonce_bit", "open", "DecryptFailed"),
            ("flip_ciphertext_bit", "open", "DecryptFailed"),
            ("flip_tag_bit", "open", "DecryptFailed"),
            ("truncated_one_byte", "open", "DecryptFailed"),
            ("truncated_below_minimum", "open", "Malformed"),
            ("unknown_kid", "open", "UnknownKey"),
            ("retired_kid", "open", "KeyRetired"),
            ("bad_base64", "open", "Malformed"),
            ("prefix_kc2", "open", "Malformed"),
            ("prefix_uppercase", "open", "Malformed"),
            ("version_2", "open", "Malformed"),
            ("empty_string", "open", "Malformed"),
            ("inspect_basic", "inspect", "ok"),
            ("needs_rewrap_kid1_after_rotation", "needs_rewrap", "ok"),
            ("rewrap_kid1_to_kid2", "rewrap", "ok"),
        ],
    );
    assert!(env.len() >= 24);
    assert!(
        env.iter()
            .filter(|(_, o, e)| o == "open" && e != "ok")
            .count()
            >= 10
    );
    want(
        "keyring_v1.json",
        &[
            ("secret_padded_base64url", "parse", "ok"),
            ("secret_unpadded_base64url", "parse", "ok"),
            ("retired_without_secret", "parse", "ok"),
            ("bad_json", "parse", "Malformed"),
            ("version_2", "parse", "Malformed"),
            ("primary_not_active", "parse", "Malformed"),
            ("two_active", "parse", "Malformed"),
            ("kid_zero", "parse", "Malformed"),
            ("duplicate_kid", "parse", "Malformed"),
            ("short_secret", "parse", "Malformed"),
            ("bad_base64_secret", "parse", "Malformed"),
            ("unknown_state", "parse", "Malformed"),
            ("derive_32", "derive_key", "ok"),
            ("from_secret_32_bytes", "from_secret", "ok"),
            ("from_secret_31_bytes", "from_secret", "InvalidArgument"),
        ],
    );
    want(
        "api_keys_v1.json",
        &[
            ("valid_obee", "parse", "ok"),
            ("prefix_uppercase", "parse", "Malformed"),
            ("body_35_chars", "parse", "Malformed"),
            ("body_charset_dash", "parse", "Malformed"),
            ("checksum_typo_in_random", "parse", "Malformed"),
            ("hash_obee", "hash", "ok"),
            ("verify_match", "verify", "ok"),
            ("verify_other_key", "verify", "ok"),
            ("verify_hash_uppercase", "verify", "Malformed"),
        ],
    );
    // Issue 14 (DESIGN §7): the cases the evidence list names.
    want(
        "wrapped_keyring_v1.json",
        &[
            ("passphrase_platform", "open_passphrase", "ok"),
            ("passphrase_default_params", "open_passphrase", "ok"),
            ("passphrase_wrong", "open_passphrase", "DecryptFailed"),
            ("passphrase_wrong_owner", "open_passphrase", "DecryptFailed"),
            ("passphrase_m_too_large", "parse", "InvalidArgument"),
            ("app_gcp_kms_platform", "open_dek", "ok"),
            ("app_wrong_owner", "open_dek", "DecryptFailed"),
            ("app_tampered_kek_key", "open_dek", "DecryptFailed"),
            ("app_tampered_kek_type", "open_dek", "DecryptFailed"),
            ("app_truncated_ciphertext", "open_dek", "DecryptFailed"),
            ("unknown_field", "parse", "Malformed"),
            ("unknown_kek_field", "parse", "Malformed"),
            ("unknown_version", "parse", "Malformed"),
            ("bad_base64_padding", "parse", "Malformed"),
            ("truncated_text", "parse", "Malformed"),
            ("tenant_keyring", "open_keyring", "ok"),
            (
                "tenant_keyring_wrong_tenant",
                "open_keyring",
                "DecryptFailed",
            ),
            ("tenant_keyring_truncated", "open_keyring", "DecryptFailed"),
        ],
    );
}
