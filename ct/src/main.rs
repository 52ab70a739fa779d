//! A dudect-style constant-time harness (Reparaz, Balasch, Verbauwhede, "Dude, is my code
//! constant time?", 2017; the method of its Rust port `dudect-bencher`). The measurement and the
//! statistics are in `harness.rs`; this file builds the targets and reads the verdicts.
//!
//! For each function under test two classes of inputs differ only in *where* a secret-dependent
//! comparison would first see a difference: class 0 differs from the expected value in its first
//! byte, class 1 only in its last byte (by a fresh random amount per input). Both classes give
//! the same answer (no match), so a constant-time implementation takes the same time on both,
//! while an early-exit comparison is fast on class 0 and slow on class 1.
//!
//! Controls on the same run, interleaved batch by batch with the targets:
//! - positive controls, a naive early-exit `==` on 1 KiB and on 32 bytes: they must be found
//!   leaking (class 1 slower) in the vote, or the harness is blind and the run fails;
//! - an A/A control, the naive `==` with both classes drawn from one distribution (difference at
//!   the last byte): if it is over the threshold in two or more rounds the machine is too noisy,
//!   and the run gives no verdict (exit code 3, "rerun").
//!
//! Exit codes: 0 every keycustody function passed and the controls behaved; 1 a keycustody
//! function leaked or a positive control was missed; 2 a setup check failed; 3 the A/A control
//! failed: machine too noisy, rerun.
//!
//! Usage: `keycustody-ct [SECONDS_PER_TARGET] [NAME_PART]` (default 20 s; with `NAME_PART`,
//! only the targets whose name contains it, and the controls, run).

mod harness;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use harness::{Kind, Prep, Rng, Target, Verdict, AA_NOISY, PERCENTILES, ROUNDS, T_ROUND, VOTE};
use keycustody::{
    constant_time_equal, generate_api_key, hash_api_key, sign_standard_webhook,
    sign_stripe_payload, verify_api_key, verify_standard_webhook_at, verify_stripe_signature_at,
    JwtVerifyOptions, Keyring,
};
use std::hint::black_box;
use std::time::Duration;

/// The comparison every tutorial warns against: returns at the first differing byte.
#[inline(never)]
fn naive_equal(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    for i in 0..a.len() {
        if black_box(a[i]) != black_box(b[i]) {
            return false;
        }
    }
    true
}

/// Setup checks (outside timing): the inputs must be what the comment says, or the run is void.
fn need(ok: bool, what: &str) {
    if !ok {
        eprintln!("keycustody-ct: setup check failed: {what}");
        std::process::exit(2);
    }
}

/// The slot of a text target (`text: true`) as `&str`, without a check in the timed region.
fn as_str(b: &[u8]) -> &str {
    debug_assert!(std::str::from_utf8(b).is_ok());
    // SAFETY: `harness::batch` checks every slot of a `text` target for UTF-8 before it times
    // any call, and `check_classes` does before calling `ok`.
    unsafe { std::str::from_utf8_unchecked(b) }
}

/// Prepares many inputs of each class and checks each with `ok` (outside timing).
fn check_classes(t: &mut Target, ok: impl Fn(&[u8]) -> bool, what: &str) {
    let mut rng = Rng::seeded();
    let mut buf = vec![0u8; t.len];
    for class in [0, 1, 0, 1] {
        for _ in 0..256 {
            (t.prep)(class, &mut rng, &mut buf);
            need(
                !t.text || std::str::from_utf8(&buf).is_ok(),
                "text inputs are UTF-8",
            );
            need(ok(&buf), what);
        }
    }
}

/// `expected | candidate` in one slot, both fresh: the candidate differs from the expected value
/// at `pos[class]` only.
fn pair_prep(n: usize, pos: [usize; 2]) -> Prep {
    Box::new(move |class, rng, out| {
        let (e, c) = out.split_at_mut(n);
        rng.fill(e);
        c.copy_from_slice(e);
        c[pos[class]] ^= rng.nonzero();
    })
}

/// Changes the hex digit at `pos` to another random one of the same class (digit or letter), so
/// that the classes differ only in the position of the difference, not in how a hex parser
/// branches on it.
fn flip_hex(rng: &mut Rng, b: &mut [u8], pos: usize) {
    b[pos] = match b[pos] {
        c @ b'0'..=b'9' => b'0' + (c - b'0' + 1 + rng.below(9) as u8) % 10,
        c => b'a' + (c - b'a' + 1 + rng.below(5) as u8) % 6,
    };
}

/// A template string whose hex digits at `pos[class]` are flipped.
fn hex_prep(template: String, pos: [usize; 2]) -> Prep {
    Box::new(move |class, rng, out| {
        out.copy_from_slice(template.as_bytes());
        flip_hex(rng, out, pos[class]);
    })
}

/// `prefix` then the base64 (`engine`) of `raw` with byte `pos[class]` changed.
fn b64_prep<E: base64::Engine + 'static>(
    prefix: String,
    raw: Vec<u8>,
    engine: &'static E,
    pos: [usize; 2],
) -> Prep {
    Box::new(move |class, rng, out| {
        let mut r = [0u8; 64];
        let r = &mut r[..raw.len()];
        r.copy_from_slice(&raw);
        r[pos[class]] ^= rng.nonzero();
        let (head, tail) = out.split_at_mut(prefix.len());
        head.copy_from_slice(prefix.as_bytes());
        let n = engine.encode_slice(&*r, tail).unwrap_or(0);
        debug_assert_eq!(n, tail.len());
    })
}

fn targets() -> Vec<Target> {
    let mut out: Vec<Target> = Vec::new();

    // Controls. The positive ones must be found leaking; the A/A one must not.
    for (name, n) in [
        ("naive early-exit == (1 KiB), positive control", 1024),
        ("naive early-exit == (32 B), positive control", 32),
    ] {
        out.push(Target {
            name,
            kind: Kind::Leaky,
            len: 2 * n,
            text: false,
            prep: pair_prep(n, [0, n - 1]),
            run: Box::new(move |s| {
                black_box(naive_equal(&s[..n], &s[n..]));
            }),
        });
    }
    out.push(Target {
        name: "naive early-exit == (1 KiB), A/A control",
        kind: Kind::Null,
        len: 2048,
        text: false,
        prep: pair_prep(1024, [1023, 1023]),
        run: Box::new(|s| {
            black_box(naive_equal(&s[..1024], &s[1024..]));
        }),
    });

    // 1. constant_time_equal on 1 KiB.
    let mut t = Target {
        name: "constant_time_equal (1 KiB)",
        kind: Kind::Ours,
        len: 2048,
        text: false,
        prep: pair_prep(1024, [0, 1023]),
        run: Box::new(|s| {
            black_box(constant_time_equal(&s[..1024], &s[1024..]));
        }),
    };
    check_classes(
        &mut t,
        |s| !constant_time_equal(&s[..1024], &s[1024..]),
        "candidates differ",
    );
    out.push(t);

    // 2. verify_api_key: the stored hash differs in its first or last hex digit.
    let key = generate_api_key("kc")
        .map(|g| g.key.expose_secret().to_owned())
        .unwrap_or_default();
    let good = hash_api_key(&key).unwrap_or_default();
    need(verify_api_key(&key, &good) == Ok(true), "api key verifies");
    need(good.len() == 64, "api key hash is 64 hex digits");
    let k2 = key.clone();
    let mut t = Target {
        name: "verify_api_key",
        kind: Kind::Ours,
        len: 64,
        text: true,
        prep: hex_prep(good, [0, 63]),
        run: Box::new(move |s| {
            black_box(verify_api_key(black_box(&key), as_str(s)).ok());
        }),
    };
    check_classes(
        &mut t,
        |s| verify_api_key(&k2, as_str(s)) == Ok(false),
        "flipped hashes do not verify",
    );
    out.push(t);

    // 3. Stripe signature: the v1 signature differs in its first or last hex digit.
    let payload = br#"{"id":"evt_1","type":"payment_intent.succeeded"}"#.to_vec();
    let secret = "whsec_test_secret_for_dudect";
    let ts = 1_700_000_000i64;
    let header = sign_stripe_payload(&payload, secret, ts).unwrap_or_default();
    need(
        verify_stripe_signature_at(&payload, &header, secret, 300, ts) == Ok(ts),
        "stripe header verifies",
    );
    let sig_at = header.find(",v1=").map_or(0, |i| i + 4);
    need(
        header.len() == sig_at + 64,
        "stripe header ends in 64 hex digits",
    );
    let (pl, pl2) = (payload.clone(), payload.clone());
    let mut t = Target {
        name: "verify_stripe_signature_at",
        kind: Kind::Ours,
        len: header.len(),
        text: true,
        prep: hex_prep(header, [sig_at, sig_at + 63]),
        run: Box::new(move |s| {
            black_box(verify_stripe_signature_at(black_box(&pl), as_str(s), secret, 300, ts).ok());
        }),
    };
    check_classes(
        &mut t,
        |s| {
            verify_stripe_signature_at(&pl2, as_str(s), secret, 300, ts)
                == Err(keycustody::Error::SignatureInvalid)
        },
        "flipped stripe signatures fail",
    );
    out.push(t);

    // 4. Standard Webhooks: the 32-byte signature differs in its first or last byte.
    let sw_secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let sig_header = sign_standard_webhook(&payload, "msg_1", ts, sw_secret).unwrap_or_default();
    let ts_s = ts.to_string();
    need(
        verify_standard_webhook_at(&payload, "msg_1", &ts_s, &sig_header, sw_secret, 300, ts)
            == Ok(ts),
        "standard webhook verifies",
    );
    let raw = STANDARD
        .decode(sig_header.trim_start_matches("v1,"))
        .unwrap_or_default();
    need(raw.len() == 32, "standard webhook signature is 32 bytes");
    let (pl, pl2, ts_s2) = (payload.clone(), payload.clone(), ts_s.clone());
    let mut t = Target {
        name: "verify_standard_webhook_at",
        kind: Kind::Ours,
        len: sig_header.len(),
        text: true,
        prep: b64_prep("v1,".into(), raw, &STANDARD, [0, 31]),
        run: Box::new(move |s| {
            black_box(
                verify_standard_webhook_at(
                    black_box(&pl),
                    "msg_1",
                    &ts_s,
                    as_str(s),
                    sw_secret,
                    300,
                    ts,
                )
                .ok(),
            );
        }),
    };
    check_classes(
        &mut t,
        |s| {
            verify_standard_webhook_at(&pl2, "msg_1", &ts_s2, as_str(s), sw_secret, 300, ts)
                == Err(keycustody::Error::SignatureInvalid)
        },
        "flipped standard signatures fail",
    );
    out.push(t);

    // 5. JWT: the HS256 signature differs in its first or last byte.
    let kr = Keyring::from_secret(&[42u8; 32], 1);
    need(kr.is_ok(), "keyring");
    if let Ok(kr) = kr {
        let tok = kr
            .sign_jwt_at("tenant-1", r#"{"sub":"agent"}"#, 600, ts)
            .unwrap_or_default();
        let opts = JwtVerifyOptions::default();
        need(
            kr.verify_jwt_at("tenant-1", &tok, &opts, ts).is_ok(),
            "jwt verifies",
        );
        let (input, s64) = tok.rsplit_once('.').unwrap_or(("", ""));
        let raw = URL_SAFE_NO_PAD.decode(s64).unwrap_or_default();
        need(raw.len() == 32, "jwt signature is 32 bytes");
        let kr2 = kr.clone();
        let opts2 = opts.clone();
        let mut t = Target {
            name: "Keyring::verify_jwt_at",
            kind: Kind::Ours,
            len: tok.len(),
            text: true,
            prep: b64_prep(format!("{input}."), raw, &URL_SAFE_NO_PAD, [0, 31]),
            run: Box::new(move |s| {
                black_box(kr.verify_jwt_at("tenant-1", as_str(s), &opts, ts).ok());
            }),
        };
        check_classes(
            &mut t,
            |s| {
                kr2.verify_jwt_at("tenant-1", as_str(s), &opts2, ts)
                    == Err(keycustody::Error::SignatureInvalid)
            },
            "flipped jwt signatures fail",
        );
        out.push(t);
    }

    // 6. The software AES-256-GCM (the wasm32 build's: RustCrypto `aes-gcm`, the `RustCrypto`
    // backend): opening with a tag that differs in its first or its last byte. Same key, nonce,
    // AAD and ciphertext. ct/.cargo/config.toml forces `aes` and `polyval` onto their software
    // backends (fixsliced AES, portable GHASH), which is what wasm32 runs; without it this
    // would time AES-NI and CLMUL.
    {
        use keycustody::internal::{aes256gcm_open, aes256gcm_seal, Backend};
        need(
            cfg!(all(aes_backend = "soft", polyval_backend = "soft")),
            "built from ct/ with the software AES and GHASH backends (cd ct && cargo build --release)",
        );
        let (key, nonce, aad) = ([7u8; 32], [9u8; 12], b"kc1-aad".to_vec());
        let sealed = aes256gcm_seal(Backend::RustCrypto, &key, &nonce, &aad, &[0x5a; 64])
            .unwrap_or_default();
        need(
            aes256gcm_open(Backend::RustCrypto, &key, &nonce, &aad, &sealed).is_ok(),
            "the sealed blob opens",
        );
        need(sealed.len() == 80, "64 B sealed with a 16-byte tag");
        let tag_at = sealed.len() - 16;
        let aad2 = aad.clone();
        let mut t = Target {
            name: "software AES-256-GCM open (64 B)",
            kind: Kind::Ours,
            len: sealed.len(),
            text: false,
            prep: Box::new(move |class, rng, out| {
                out.copy_from_slice(&sealed);
                out[[tag_at, tag_at + 15][class]] ^= rng.nonzero();
            }),
            run: Box::new(move |s| {
                black_box(aes256gcm_open(Backend::RustCrypto, &key, &nonce, &aad, s).ok());
            }),
        };
        check_classes(
            &mut t,
            |s| {
                aes256gcm_open(Backend::RustCrypto, &key, &nonce, &aad2, s)
                    == Err(keycustody::Error::DecryptFailed)
            },
            "flipped tags fail",
        );
        out.push(t);
    }
    out
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

fn main() {
    let secs: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let only = std::env::args().nth(2);
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let mut targets: Vec<Target> = targets()
        .into_iter()
        .filter(|t| t.kind != Kind::Ours || only.as_deref().is_none_or(|p| t.name.contains(p)))
        .collect();
    let tpn = harness::ticks_per_ns();
    let load0 = loadavg();
    println!(
        "dudect-style harness: {secs} s per target in {ROUNDS} interleaved rounds, one call per \
         measurement, class drawn per measurement, CPU: {cpu}"
    );
    println!(
        "timer: lfence/rdtsc/lfence, {tpn:.3} ticks/ns, {} ticks per read pair; tests per round: \
         {PERCENTILES} cropped + uncropped + second order; leak = max |t| > {T_ROUND} in >= {VOTE} \
         of {ROUNDS} rounds with one sign; A/A over {T_ROUND} in >= {AA_NOISY} rounds = too noisy",
        harness::timer_overhead()
    );
    println!("load average at start: {load0}");
    let results = harness::run_all(&mut targets, Duration::from_secs(secs));
    println!("load average at end: {}", loadavg());
    println!();
    println!("| function | class 0 / class 1 (mean <= p90) | detectable (p90) | measurements | max t per round (signed) | largest from | verdict |");
    println!("|---|---|---|---|---|---|---|");
    let (mut leak, mut blind, mut noisy) = (false, false, false);
    for (t, rounds) in targets.iter().zip(&results) {
        let v = harness::verdict(rounds);
        let text = match t.kind {
            Kind::Leaky if harness::control_detected(rounds) => {
                "leak detected (expected): harness can fail"
            }
            Kind::Leaky => {
                blind = true;
                "FAIL: harness did not see the leak"
            }
            Kind::Null if harness::too_noisy(rounds) => {
                noisy = true;
                "FAIL: A/A control over the threshold: machine too noisy"
            }
            Kind::Null => "no difference (expected): run trusted",
            Kind::Ours if v == Verdict::Leak => {
                leak = true;
                "FAIL: leak (consistent over rounds)"
            }
            Kind::Ours => "no leak detected",
        };
        let m = |c: usize| rounds.iter().map(|r| r.mean90[c]).sum::<f64>() / rounds.len() as f64;
        let n: u64 = rounds.iter().map(|r| r.n).sum();
        let ts: Vec<String> = rounds.iter().map(|r| format!("{:+.2}", r.t)).collect();
        let top = rounds
            .iter()
            .max_by(|a, b| a.t.abs().total_cmp(&b.t.abs()))
            .map_or_else(String::new, |r| harness::test_name(r.test));
        println!(
            "| {} | {:.1} / {:.1} ns | {:.2} ns | {n} | {} | {top} | {text} |",
            t.name,
            m(0) / tpn,
            m(1) / tpn,
            rounds.iter().map(|r| r.limit90).sum::<f64>() / rounds.len() as f64 / tpn,
            ts.join(" "),
        );
    }
    println!();
    if noisy {
        println!("keycustody-ct: machine too noisy (the A/A control failed), no verdict: rerun");
        std::process::exit(3);
    }
    if blind {
        println!("keycustody-ct: FAIL: a positive control was not detected: the harness is blind");
        std::process::exit(1);
    }
    if leak {
        println!("keycustody-ct: FAIL: a keycustody function leaks (A/A control passed)");
        std::process::exit(1);
    }
    println!(
        "keycustody-ct: pass: no leak detected; positive controls detected, A/A control passed"
    );
}
