//! A tiny stdin/stdout tool for cross-language tests (not a user-facing CLI).
//!
//! ```text
//! interop seal KEYRING_FILE OWNER CONTEXT < plaintext   > envelope text
//! interop open KEYRING_FILE OWNER CONTEXT < envelope    > plaintext bytes
//! interop inspect < envelope                            > {"version":1,"kid":N,"plaintext_len":N}
//! ```
//! KEYRING_FILE holds the keyring JSON text (permissions are not checked here:
//! test fixtures only). CONTEXT is UTF-8 text (may be empty). On failure the
//! error kind (e.g. `DecryptFailed`) is printed to stderr and the exit code is 1;
//! a usage error exits 2.
use std::io::{Read, Write};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut input = Vec::new();
    if std::io::stdin().read_to_end(&mut input).is_err() {
        return ExitCode::from(2);
    }
    let result = match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["seal", file, owner, ctx] => keyring(file).and_then(|k| {
            k.seal(owner, &input, ctx.as_bytes())
                .map(String::into_bytes)
        }),
        ["open", file, owner, ctx] => keyring(file).and_then(|k| {
            let text = String::from_utf8_lossy(&input);
            k.open(owner, text.trim(), ctx.as_bytes())
                .map(|p| p.expose_secret().to_vec())
        }),
        ["inspect"] => keycustody::inspect(String::from_utf8_lossy(&input).trim()).map(|i| {
            format!(
                "{{\"version\":{},\"kid\":{},\"plaintext_len\":{}}}",
                i.version, i.kid, i.plaintext_len
            )
            .into_bytes()
        }),
        _ => {
            eprintln!("usage: interop seal|open KEYRING_FILE OWNER CONTEXT | interop inspect");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(out) => {
            if std::io::stdout().write_all(&out).is_err() {
                return ExitCode::from(2);
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{}", e.kind());
            ExitCode::from(1)
        }
    }
}

fn keyring(file: &str) -> keycustody::Result<keycustody::Keyring> {
    let text = std::fs::read_to_string(file)?;
    keycustody::Keyring::parse(&text)
}
