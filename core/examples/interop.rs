//! A tiny stdin/stdout tool for the cross-language tests (tests/interop/test_kc1_interop.py,
//! test_wrapped_interop.py); not a user-facing CLI. Secrets (passphrases, DEKs) come on stdin,
//! never in argv.
//!
//! ```text
//! interop seal KEYRING_FILE OWNER CONTEXT < plaintext                 > envelope text
//! interop open KEYRING_FILE OWNER CONTEXT < envelope                  > plaintext bytes
//! interop inspect < envelope                                          > {"version":1,"kid":N,"plaintext_len":N}
//! interop wrap-passphrase KEYRING_FILE OWNER M T P < passphrase       > wrapped text
//! interop wrap-app KEYRING_FILE TYPE KEY OWNER                        > {"text":..,"dek":hex,"header":hex}
//! interop open-wrapped < {"text":..,"passphrase":..} | {"text":..,"dek":hex}  > keyring text
//! interop seal-keyring PLATFORM_FILE TENANT TENANT_KEYRING_FILE       > kc1 envelope
//! interop open-keyring PLATFORM_FILE TENANT < envelope                > tenant keyring text
//! ```
//! KEYRING_FILE holds the keyring JSON text (permissions are not checked here: test fixtures
//! only). CONTEXT is UTF-8 text (may be empty). `wrap-app` writes `wrapped_dek` = the bytes
//! `app-wrapped` (the application's KEK is not part of this tool). On failure the error kind
//! (e.g. `DecryptFailed`) is printed to stderr and the exit code is 1; a usage error exits 2.
use keycustody::{Argon2Params, Keyring, PendingWrap, WrappedKeyring};
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
        ["wrap-passphrase", file, owner, m, t, p] => {
            let (Ok(m_kib), Ok(t), Ok(p)) = (m.parse(), t.parse(), p.parse()) else {
                return ExitCode::from(2);
            };
            keyring(file).and_then(|k| {
                keycustody::wrap_with_passphrase(&k, &input, owner, Argon2Params { m_kib, t, p })
                    .map(|w| w.to_text().into_bytes())
            })
        }
        ["wrap-app", file, ty, key, owner] => keyring(file).and_then(|k| {
            let p = PendingWrap::new(&k, ty, key, owner)?;
            let dek = hex::encode(p.dek());
            let header = hex::encode(p.header());
            let w = p.finish(b"app-wrapped")?;
            Ok(
                serde_json::json!({"text": w.to_text(), "dek": dek, "header": header})
                    .to_string()
                    .into_bytes(),
            )
        }),
        ["open-wrapped"] => open_wrapped(&input),
        ["seal-keyring", platform, tenant, tenant_file] => keyring(platform).and_then(|p| {
            p.seal_keyring(tenant, &keyring(tenant_file)?)
                .map(String::into_bytes)
        }),
        ["open-keyring", platform, tenant] => keyring(platform).and_then(|p| {
            let env = String::from_utf8_lossy(&input);
            let k = p.open_keyring(tenant, env.trim())?;
            Ok(k.export()?.expose_secret().as_bytes().to_vec())
        }),
        _ => {
            eprintln!("usage: see core/examples/interop.rs");
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

fn open_wrapped(input: &[u8]) -> keycustody::Result<Vec<u8>> {
    let bad =
        keycustody::Error::InvalidArgument("stdin must be {\"text\", \"passphrase\" | \"dek\"}");
    let v: serde_json::Value = serde_json::from_slice(input).map_err(|_| bad)?;
    let w = WrappedKeyring::parse(v["text"].as_str().ok_or(bad)?)?;
    let k = if let Some(p) = v["passphrase"].as_str() {
        w.open_with_passphrase(p.as_bytes())?
    } else {
        let dek = hex::decode(v["dek"].as_str().ok_or(bad)?).map_err(|_| bad)?;
        w.open_with_dek(&dek)?
    };
    Ok(k.export()?.expose_secret().as_bytes().to_vec())
}

fn keyring(file: &str) -> keycustody::Result<Keyring> {
    let text = std::fs::read_to_string(file)?;
    Keyring::parse(&text)
}
