//! tests/api.json against core: every `rust` name exists in core/public-api.txt, every public
//! item of core is in the manifest (an entry or `rust_only`), every default tied to a core
//! constant has that constant's value, every error kind is one of `Error::KINDS`.

use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn manifest() -> serde_json::Value {
    let text = std::fs::read_to_string(root().join("tests/api.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn api_txt() -> String {
    std::fs::read_to_string(root().join("core/public-api.txt")).unwrap()
}

#[test]
fn the_manifest_matches_core() {
    let problems = xtask::api::check(&manifest(), &api_txt());
    assert!(
        problems.is_empty(),
        "tests/api.json vs core:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_reader_sees_core_items() {
    let items = xtask::api::public_items(&api_txt());
    for item in [
        "keycustody::seal_for_delivery",
        "keycustody::Keyring::add_key_with_secret",
        "keycustody::Keyring",
        "keycustody::DEFAULT_TOLERANCE",
        "keycustody::CodeCheck::attempts_left",
        "keycustody::verify_standard_webhook_headers_at",
        "keycustody::Keyring::sealed_len",
        "keycustody::MAX_PLAINTEXT",
    ] {
        assert!(
            items.contains(item),
            "{item} not read from core/public-api.txt"
        );
    }
}

// The test of the test: each kind of drift is reported.
#[test]
fn the_checker_reports_an_item_added_to_core_without_an_entry() {
    let txt = api_txt() + "pub fn keycustody::sneaky_new_api(&str) -> keycustody::Result<()>\n";
    let problems = xtask::api::check(&manifest(), &txt);
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("keycustody::sneaky_new_api: public in core")),
        "{problems:?}"
    );
    // A method, `const fn` ones included.
    for (method, line) in [
        ("sneaky", "pub fn keycustody::ReplayGuard::sneaky(&self)"),
        (
            "sneaky_len",
            "pub const fn keycustody::ReplayGuard::sneaky_len(usize) -> usize",
        ),
    ] {
        let txt = api_txt().replace(
            "impl keycustody::ReplayGuard\n",
            &format!("impl keycustody::ReplayGuard\n{line}\n"),
        );
        let problems = xtask::api::check(&manifest(), &txt);
        let want = format!("keycustody::ReplayGuard::{method}: public in core");
        assert!(
            problems.iter().any(|p| p.starts_with(&want)),
            "{problems:?}"
        );
    }
}

#[test]
fn the_checker_reports_a_name_core_lacks_and_a_wrong_default() {
    let mut m = manifest();
    m["functions"][0]["rust"] = serde_json::json!(["keycustody::no_such_fn"]);
    let problems = xtask::api::check(&m, &api_txt());
    assert!(
        problems
            .iter()
            .any(|p| p.contains("rust name keycustody::no_such_fn is not in")),
        "{problems:?}"
    );

    let text = serde_json::to_string(&manifest()).unwrap();
    let wrong = text.replace(
        r#"{"const":"DEFAULT_TOLERANCE","value":300}"#,
        r#"{"const":"DEFAULT_TOLERANCE","value":301}"#,
    );
    assert_ne!(wrong, text);
    let problems = xtask::api::check(&serde_json::from_str(&wrong).unwrap(), &api_txt());
    assert!(
        problems
            .iter()
            .any(|p| p.contains("DEFAULT_TOLERANCE is 300 in core")),
        "{problems:?}"
    );

    let mut m = manifest();
    m["functions"][0]["errors"] = serde_json::json!(["NoSuchKind"]);
    let problems = xtask::api::check(&m, &api_txt());
    assert!(
        problems
            .iter()
            .any(|p| p.contains("error kind \"NoSuchKind\"")),
        "{problems:?}"
    );

    let mut m = manifest();
    m["functions"][0]["wasm"] = serde_json::Value::Null;
    let problems = xtask::api::check(&m, &api_txt());
    assert!(
        problems
            .iter()
            .any(|p| p.contains("absent from wasm without a reason")),
        "{problems:?}"
    );
}
