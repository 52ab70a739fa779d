//! `cargo run -p xtask -- vectors`: (re)writes tests/vectors/*_v1.json.
#![allow(clippy::print_stdout)]

mod platform;

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("vectors") => {
            let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
            for (path, text) in xtask::vector_files()
                .into_iter()
                .chain(platform::vector_files())
            {
                let p = root.join(path);
                if let Err(e) = std::fs::write(&p, text) {
                    eprintln!("xtask: cannot write {path}: {e}");
                    return ExitCode::FAILURE;
                }
                println!("wrote {path}");
            }
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("usage: cargo run -p xtask -- vectors");
            ExitCode::from(2)
        }
    }
}
