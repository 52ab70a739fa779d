//! stdin/stdout tool for the platform interop tests (tests/interop/test_platform_*.py,
//! tests/interop/node-hpke). Not a user-facing CLI.
//!
//! ```text
//! platform_interop stripe-sign SECRET TIMESTAMP < payload             > header
//! platform_interop stripe-verify SECRET TOLERANCE NOW HEADER < payload > timestamp
//! platform_interop standard-sign SECRET MSG_ID TIMESTAMP < payload     > signature
//! platform_interop standard-verify SECRET MSG_ID TIMESTAMP SIGNATURE NOW < payload > timestamp
//! platform_interop jwt-secret KEYRING_FILE TENANT                      > hex
//! platform_interop jwt-sign KEYRING_FILE TENANT TTL NOW < claims       > token
//! platform_interop jwt-verify KEYRING_FILE TENANT NOW AUD ISS < token  > claims ("-" = unset)
//! platform_interop totp-at SECRET NOW                                  > code
//! platform_interop totp-verify SECRET CODE NOW                         > step
//! platform_interop totp-secret                                         > base32 secret
//! platform_interop delivery-keypair                                    > private\npublic
//! platform_interop delivery-seal PUBLIC_KEY OWNER < plaintext          > kcd1 blob
//! platform_interop delivery-open PRIVATE_KEY_FILE OWNER < blob         > plaintext
//! platform_interop scrub < text                                        > scrubbed text
//! ```
//! On failure the error kind is printed to stderr and the exit code is 1; usage errors exit 2.
use keycustody::{Error, JwtVerifyOptions, Keyring};
use std::io::{Read, Write};
use std::process::ExitCode;

fn keyring(path: &str) -> Result<Keyring, Error> {
    let text = std::fs::read_to_string(path)?;
    Keyring::parse(text.trim())
}

fn num(s: &str) -> Result<i64, Error> {
    s.parse().map_err(|_| Error::InvalidArgument("number"))
}

fn text(input: &[u8]) -> String {
    String::from_utf8_lossy(input).trim().to_owned()
}

fn opt(s: &str) -> Option<String> {
    (s != "-").then(|| s.to_owned())
}

fn run(args: &[&str], input: &[u8]) -> Option<Result<Vec<u8>, Error>> {
    let r = match args {
        ["stripe-sign", secret, ts] => num(ts)
            .and_then(|t| keycustody::sign_stripe_payload(input, secret, t))
            .map(String::into_bytes),
        ["stripe-verify", secret, tol, now, header] => num(tol).and_then(|tol| {
            keycustody::verify_stripe_signature_at(
                input,
                header,
                secret,
                tol.unsigned_abs(),
                num(now)?,
            )
            .map(|t| t.to_string().into_bytes())
        }),
        ["standard-sign", secret, id, ts] => num(ts)
            .and_then(|t| keycustody::sign_standard_webhook(input, id, t, secret))
            .map(String::into_bytes),
        ["standard-verify", secret, id, ts, sig, now] => num(now).and_then(|now| {
            keycustody::verify_standard_webhook_at(input, id, ts, sig, secret, 300, now)
                .map(|t| t.to_string().into_bytes())
        }),
        ["jwt-secret", file, tenant] => keyring(file)
            .and_then(|k| k.jwt_secret(tenant))
            .map(|(_, s)| hex::encode(s.expose_secret()).into_bytes()),
        ["jwt-sign", file, tenant, ttl, now] => keyring(file).and_then(|k| {
            k.sign_jwt_at(tenant, &text(input), num(ttl)?.unsigned_abs(), num(now)?)
                .map(String::into_bytes)
        }),
        ["jwt-verify", file, tenant, now, aud, iss] => keyring(file).and_then(|k| {
            let mut o = JwtVerifyOptions::default();
            o.audience = opt(aud);
            o.issuer = opt(iss);
            k.verify_jwt_at(tenant, &text(input), &o, num(now)?)
                .map(String::into_bytes)
        }),
        ["totp-at", secret, now] => num(now)
            .and_then(|n| keycustody::totp_at(secret, n))
            .map(|c| c.expose_secret().as_bytes().to_vec()),
        ["totp-verify", secret, code, now] => num(now)
            .and_then(|n| keycustody::verify_totp_at(secret, code, n, None))
            .map(|s| s.to_string().into_bytes()),
        ["totp-secret"] => {
            keycustody::generate_totp_secret().map(|s| s.expose_secret().as_bytes().to_vec())
        }
        ["delivery-keypair"] => keycustody::generate_delivery_keypair().map(|kp| {
            format!("{}\n{}\n", kp.private_key.expose_secret(), kp.public_key).into_bytes()
        }),
        ["delivery-seal", pk, owner] => {
            keycustody::seal_for_delivery(pk, owner, input).map(String::into_bytes)
        }
        ["delivery-open", file, owner] => std::fs::read_to_string(file)
            .map_err(Error::from)
            .and_then(|sk| keycustody::open_delivery(sk.trim(), owner, &text(input)))
            .map(|p| p.expose_secret().to_vec()),
        ["scrub"] => Ok(keycustody::scrub(&String::from_utf8_lossy(input)).into_bytes()),
        _ => return None,
    };
    Some(r)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut input = Vec::new();
    let needs_stdin = !matches!(
        args.first(),
        Some(&("jwt-secret" | "totp-at" | "totp-verify" | "totp-secret" | "delivery-keypair"))
    );
    if needs_stdin && std::io::stdin().read_to_end(&mut input).is_err() {
        return ExitCode::from(2);
    }
    match run(&args, &input) {
        None => {
            eprintln!("usage: see the header of core/examples/platform_interop.rs");
            ExitCode::from(2)
        }
        Some(Ok(out)) => {
            if std::io::stdout().write_all(&out).is_err() {
                return ExitCode::from(2);
            }
            ExitCode::SUCCESS
        }
        Some(Err(e)) => {
            eprintln!("{}", e.kind());
            ExitCode::from(1)
        }
    }
}
