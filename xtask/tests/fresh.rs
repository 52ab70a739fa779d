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
