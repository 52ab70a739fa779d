//! The committed platform vector files are exactly what xtask/src/platform.rs writes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../src/platform.rs"]
mod platform;

#[test]
fn committed_platform_vectors_are_fresh() {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    for (path, text) in platform::vector_files() {
        let committed = std::fs::read_to_string(root.join(path))
            .unwrap_or_else(|e| panic!("{path}: {e} (run `cargo run -p xtask -- vectors`)"));
        assert!(
            committed == text,
            "{path} differs from the generator's output: run `cargo run -p xtask -- vectors` and commit"
        );
    }
}

#[test]
fn platform_generation_is_deterministic() {
    assert_eq!(platform::vector_files(), platform::vector_files());
}
