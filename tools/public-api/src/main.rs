//! `keycustody-public-api [--check]`: builds core's rustdoc JSON with nightly (default
//! features only: the `internal` test hooks are not part of the API), renders every public
//! item with the `public-api` crate and writes `core/public-api.txt`, or with `--check`
//! fails when the committed snapshot differs (printing the added and removed lines).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let check = match std::env::args().nth(1).as_deref() {
        None => false,
        Some("--check") => true,
        Some(_) => {
            eprintln!("usage: keycustody-public-api [--check]");
            return ExitCode::from(2);
        }
    };
    match run(check) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("public-api: {e}");
            ExitCode::from(2)
        }
    }
}

fn run(check: bool) -> Result<bool, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let target = root.join("target/public-api");
    let status = Command::new("cargo")
        .args(["+nightly", "rustdoc", "--locked", "-q", "-p", "keycustody", "--lib"])
        .arg("--manifest-path")
        .arg(root.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target)
        .args(["--", "-Z", "unstable-options", "--output-format", "json"])
        .env_remove("RUSTDOCFLAGS")
        .status()
        .map_err(|e| format!("cannot run cargo +nightly rustdoc: {e}"))?;
    if !status.success() {
        return Err("cargo +nightly rustdoc failed".into());
    }
    let json: PathBuf = target.join("doc/keycustody.json");
    let api = public_api::Builder::from_rustdoc_json(&json)
        .omit_blanket_impls(true)
        .omit_auto_trait_impls(true)
        .omit_auto_derived_impls(true)
        .build()
        .map_err(|e| format!("reading {}: {e}", json.display()))?;
    let mut text = String::from(
        "# The public API of crate `keycustody` (default features), one item a line.\n\
         # Regenerate with `make public-api`; `make test` fails when this file is stale.\n",
    );
    for item in api.items() {
        text.push_str(&item.to_string());
        text.push('\n');
    }
    let snapshot = root.join("core/public-api.txt");
    if !check {
        std::fs::write(&snapshot, &text).map_err(|e| format!("writing snapshot: {e}"))?;
        println!("wrote core/public-api.txt ({} items)", api.items().count());
        return Ok(true);
    }
    let old = std::fs::read_to_string(&snapshot).unwrap_or_default();
    if old == text {
        println!("public API unchanged ({} items)", api.items().count());
        return Ok(true);
    }
    let old_lines: std::collections::BTreeSet<&str> = old.lines().collect();
    let new_lines: std::collections::BTreeSet<&str> = text.lines().collect();
    eprintln!("core's public API differs from core/public-api.txt:");
    for l in new_lines.difference(&old_lines) {
        eprintln!("+ {l}");
    }
    for l in old_lines.difference(&new_lines) {
        eprintln!("- {l}");
    }
    eprintln!("review the change, then run `make public-api` and commit core/public-api.txt");
    Ok(false)
}
