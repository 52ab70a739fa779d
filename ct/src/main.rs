//! A dudect-style constant-time harness (Reparaz, Balasch, Verbauwhede, "Dude, is my code
//! constant time?", 2017).
//!
//! For each function under test two classes of inputs are built that differ only in *where*
//! a secret-dependent comparison would first see a difference: class 0 differs from the
//! expected value in its first byte, class 1 only in its last byte. Both classes give the
//! same answer (no match), so a constant-time implementation takes the same time on both, while
//! an early-exit comparison is fast on class 0 and slow on class 1. Calls are timed in batches,
//! the class of each batch is drawn at random (so drift and noise hit both classes alike), and
//! Welch's t-test compares the two timing distributions, on all samples and on samples cropped
//! at several percentiles (dudect's trick against heavy-tailed noise). The reported figure is the
//! largest |t| over those tests.
//!
//! Verdicts: every keycustody function must stay below |t| = 4.5 (dudect's threshold); the naive
//! early-exit comparison run through the same harness must exceed |t| = 10, which proves the
//! harness can see a leak. The process exits non-zero if either verdict fails.
//!
//! Usage: `keycustody-ct [SECONDS_PER_TARGET] [NAME_PART]` (default 20 s; with `NAME_PART`,
//! only the targets whose name contains it, and the control, run).

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use keycustody::{
    constant_time_equal, generate_api_key, hash_api_key, sign_standard_webhook,
    sign_stripe_payload, verify_api_key, verify_standard_webhook_at, verify_stripe_signature_at,
    JwtVerifyOptions, Keyring,
};
use std::hint::black_box;
use std::time::{Duration, Instant};

/// Calls per timed batch.
const BATCH: usize = 8;
/// Inputs per class (cycled).
const POOL: usize = 32;
/// Batches used to fix the cropping thresholds before the test proper.
const WARMUP: usize = 20_000;
/// Cropping percentiles (plus "no crop").
const CROPS: [f64; 5] = [0.50, 0.75, 0.90, 0.95, 0.99];

/// Welford's online mean/variance per class.
#[derive(Clone, Copy, Default)]
struct Welch {
    n: [f64; 2],
    mean: [f64; 2],
    m2: [f64; 2],
}

impl Welch {
    fn push(&mut self, class: usize, x: f64) {
        self.n[class] += 1.0;
        let d = x - self.mean[class];
        self.mean[class] += d / self.n[class];
        self.m2[class] += d * (x - self.mean[class]);
    }

    fn t(&self) -> f64 {
        if self.n[0] < 2.0 || self.n[1] < 2.0 {
            return 0.0;
        }
        let v0 = self.m2[0] / (self.n[0] - 1.0);
        let v1 = self.m2[1] / (self.n[1] - 1.0);
        let se = (v0 / self.n[0] + v1 / self.n[1]).sqrt();
        if se == 0.0 {
            0.0
        } else {
            (self.mean[0] - self.mean[1]) / se
        }
    }
}

/// xorshift64*: the class schedule only needs to be unpredictable to the code under test.
struct Rng(u64);
impl Rng {
    fn bit(&mut self) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 63) as usize
    }
}

struct Outcome {
    max_t: f64,
    batches: u64,
    mean_ns: [f64; 2],
}

/// Runs `f(class, index)` in random class order for `budget`, returns the largest |t|.
fn measure(budget: Duration, mut f: impl FnMut(usize, usize)) -> Outcome {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ u64::from(std::process::id()));
    let mut time_batch = |class: usize, i: usize| -> f64 {
        let start = Instant::now();
        for _ in 0..BATCH {
            f(class, i);
        }
        start.elapsed().as_nanos() as f64
    };
    // Warm-up: fixes the cropping thresholds from the pooled distribution.
    let mut warm: Vec<f64> = (0..WARMUP)
        .map(|k| time_batch(rng.bit(), k % POOL))
        .collect();
    warm.sort_by(f64::total_cmp);
    let thresholds: Vec<f64> = CROPS
        .iter()
        .map(|p| warm[((warm.len() as f64 - 1.0) * p) as usize])
        .collect();
    let mut all = Welch::default();
    let mut cropped = vec![Welch::default(); thresholds.len()];
    let start = Instant::now();
    let mut k = 0usize;
    while start.elapsed() < budget {
        for _ in 0..1000 {
            let class = rng.bit();
            let x = time_batch(class, k % POOL);
            k += 1;
            all.push(class, x);
            for (w, th) in cropped.iter_mut().zip(&thresholds) {
                if x <= *th {
                    w.push(class, x);
                }
            }
        }
    }
    let max_t = std::iter::once(&all)
        .chain(cropped.iter())
        .map(|w| w.t().abs())
        .fold(0.0, f64::max);
    Outcome {
        max_t,
        batches: k as u64,
        mean_ns: [all.mean[0] / BATCH as f64, all.mean[1] / BATCH as f64],
    }
}

/// Two pools of candidates: class 0 differs from `expected` at byte `first`, class 1 at `last`.
fn pools(expected: &[u8], first: usize, last: usize) -> [Vec<Vec<u8>>; 2] {
    let mk = |pos: usize| -> Vec<Vec<u8>> {
        (0..POOL)
            .map(|i| {
                let mut v = expected.to_vec();
                v[pos] ^= 1 + (i as u8 % 7);
                v
            })
            .collect()
    };
    [mk(first), mk(last)]
}

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

/// Changes one hex digit to another of the same class (digit or letter), so that the two classes
/// differ only in the position of the difference, not in how a hex parser branches on it.
fn flip_hex(s: &str, pos: usize) -> String {
    let mut b = s.as_bytes().to_vec();
    b[pos] = match b[pos] {
        c @ b'0'..=b'9' => c ^ 1,
        c => ((c - b'a') ^ 1) + b'a',
    };
    String::from_utf8(b).unwrap_or_default()
}

/// Setup checks (outside timing): the inputs must be what the comment says, or the run is void.
fn need(ok: bool, what: &str) {
    if !ok {
        eprintln!("keycustody-ct: setup check failed: {what}");
        std::process::exit(2);
    }
}

type Target = (&'static str, &'static str, Box<dyn FnMut(usize, usize)>);

fn targets() -> Vec<Target> {
    let mut out: Vec<Target> = Vec::new();

    // 1. constant_time_equal on 1 KiB.
    let expected: Vec<u8> = (0..1024u32).map(|i| (i * 31 % 251) as u8).collect();
    let p = pools(&expected, 0, 1023);
    let e = expected.clone();
    out.push((
        "constant_time_equal (1 KiB)",
        "ours",
        Box::new(move |c, i| {
            black_box(constant_time_equal(black_box(&e), black_box(&p[c][i])));
        }),
    ));

    // 2. The naive early-exit comparison: the harness must see this one leak.
    let p = pools(&expected, 0, 1023);
    out.push((
        "naive early-exit == (1 KiB), control",
        "control",
        Box::new(move |c, i| {
            black_box(naive_equal(black_box(&expected), black_box(&p[c][i])));
        }),
    ));

    // 3. verify_api_key: the stored hash differs in its first or last hex digit.
    let key = generate_api_key("kc")
        .map(|g| g.key.expose_secret().to_owned())
        .unwrap_or_default();
    let good = hash_api_key(&key).unwrap_or_default();
    let hashes: [Vec<String>; 2] = [
        (0..POOL).map(|_| flip_hex(&good, 0)).collect(),
        (0..POOL).map(|_| flip_hex(&good, 63)).collect(),
    ];
    need(verify_api_key(&key, &good) == Ok(true), "api key verifies");
    need(
        hashes
            .iter()
            .all(|h| verify_api_key(&key, &h[0]) == Ok(false)),
        "flipped hashes do not verify",
    );
    out.push((
        "verify_api_key",
        "ours",
        Box::new(move |c, i| {
            black_box(verify_api_key(black_box(&key), black_box(&hashes[c][i])).ok());
        }),
    ));

    // 4. Stripe signature: the v1 signature differs in its first or last hex digit.
    let payload = br#"{"id":"evt_1","type":"payment_intent.succeeded"}"#.to_vec();
    let secret = "whsec_test_secret_for_dudect";
    let ts = 1_700_000_000i64;
    let header = sign_stripe_payload(&payload, secret, ts).unwrap_or_default();
    let (t_part, sig) = header.split_once(",v1=").unwrap_or(("", ""));
    let headers: [Vec<String>; 2] = [0, 63].map(|pos| {
        (0..POOL)
            .map(|_| format!("{t_part},v1={}", flip_hex(sig, pos)))
            .collect()
    });
    need(
        verify_stripe_signature_at(&payload, &header, secret, 300, ts) == Ok(ts),
        "stripe header verifies",
    );
    need(
        headers.iter().all(|h| {
            verify_stripe_signature_at(&payload, &h[0], secret, 300, ts)
                == Err(keycustody::Error::SignatureInvalid)
        }),
        "flipped stripe signatures fail",
    );
    let pl = payload.clone();
    out.push((
        "verify_stripe_signature_at",
        "ours",
        Box::new(move |c, i| {
            black_box(
                verify_stripe_signature_at(
                    black_box(&pl),
                    black_box(&headers[c][i]),
                    secret,
                    300,
                    ts,
                )
                .ok(),
            );
        }),
    ));

    // 5. Standard Webhooks: the 32-byte signature differs in its first or last byte.
    let sw_secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let sig_header = sign_standard_webhook(&payload, "msg_1", ts, sw_secret).unwrap_or_default();
    let raw = STANDARD
        .decode(sig_header.trim_start_matches("v1,"))
        .unwrap_or_else(|_| vec![0; 32]);
    let sigs: [Vec<String>; 2] = pools(&raw, 0, 31).map(|v| {
        v.iter()
            .map(|s| format!("v1,{}", STANDARD.encode(s)))
            .collect()
    });
    let ts_s = ts.to_string();
    need(
        verify_standard_webhook_at(&payload, "msg_1", &ts_s, &sig_header, sw_secret, 300, ts)
            == Ok(ts),
        "standard webhook verifies",
    );
    need(
        sigs.iter().all(|v| {
            verify_standard_webhook_at(&payload, "msg_1", &ts_s, &v[0], sw_secret, 300, ts)
                == Err(keycustody::Error::SignatureInvalid)
        }),
        "flipped standard signatures fail",
    );
    out.push((
        "verify_standard_webhook_at",
        "ours",
        Box::new(move |c, i| {
            black_box(
                verify_standard_webhook_at(
                    black_box(&payload),
                    "msg_1",
                    &ts_s,
                    black_box(&sigs[c][i]),
                    sw_secret,
                    300,
                    ts,
                )
                .ok(),
            );
        }),
    ));

    // 6. JWT: the HS256 signature differs in its first or last byte.
    let kr = Keyring::from_secret(&[42u8; 32], 1);
    need(kr.is_ok(), "keyring");
    if let Ok(kr) = kr {
        let tok = kr
            .sign_jwt_at("tenant-1", r#"{"sub":"agent"}"#, 600, ts)
            .unwrap_or_default();
        let (input, s64) = tok.rsplit_once('.').unwrap_or(("", ""));
        let raw = URL_SAFE_NO_PAD.decode(s64).unwrap_or_else(|_| vec![0; 32]);
        let toks: [Vec<String>; 2] = pools(&raw, 0, 31).map(|v| {
            v.iter()
                .map(|s| format!("{input}.{}", URL_SAFE_NO_PAD.encode(s)))
                .collect()
        });
        let opts = JwtVerifyOptions::default();
        need(
            kr.verify_jwt_at("tenant-1", &tok, &opts, ts).is_ok(),
            "jwt verifies",
        );
        need(
            toks.iter().all(|v| {
                kr.verify_jwt_at("tenant-1", &v[0], &opts, ts)
                    == Err(keycustody::Error::SignatureInvalid)
            }),
            "flipped jwt signatures fail",
        );
        out.push((
            "Keyring::verify_jwt_at",
            "ours",
            Box::new(move |c, i| {
                black_box(
                    kr.verify_jwt_at("tenant-1", black_box(&toks[c][i]), &opts, ts)
                        .ok(),
                );
            }),
        ));
    }

    // 7. The software AES-256-GCM (the wasm32 build's: RustCrypto `aes-gcm`, the `RustCrypto`
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
        let tag_at = sealed.len().saturating_sub(16);
        let blobs = pools(&sealed, tag_at, sealed.len().saturating_sub(1));
        need(
            aes256gcm_open(Backend::RustCrypto, &key, &nonce, &aad, &sealed).is_ok(),
            "the sealed blob opens",
        );
        need(
            blobs.iter().all(|v| {
                aes256gcm_open(Backend::RustCrypto, &key, &nonce, &aad, &v[0])
                    == Err(keycustody::Error::DecryptFailed)
            }),
            "flipped tags fail",
        );
        out.push((
            "software AES-256-GCM open (64 B)",
            "ours",
            Box::new(move |c, i| {
                black_box(
                    aes256gcm_open(
                        Backend::RustCrypto,
                        &key,
                        &nonce,
                        &aad,
                        black_box(&blobs[c][i]),
                    )
                    .ok(),
                );
            }),
        ));
    }
    out
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
    println!("dudect-style harness: {secs} s per target, batches of {BATCH} calls, CPU: {cpu}");
    println!();
    println!("| function | class 0 (differs at first byte) | class 1 (differs at last byte) | batches | max \\|t\\| | verdict |");
    println!("|---|---|---|---|---|---|");
    let mut failed = false;
    for (name, kind, mut f) in targets() {
        if only.as_deref().is_some_and(|p| kind != "control" && !name.contains(p)) {
            continue;
        }
        let o = measure(Duration::from_secs(secs), &mut f);
        let verdict = match kind {
            "control" if o.max_t > 10.0 => "leak detected (expected): harness works",
            "control" => {
                failed = true;
                "FAIL: harness did not see the leak"
            }
            _ if o.max_t < 4.5 => "no leak detected",
            _ => {
                failed = true;
                "FAIL: |t| >= 4.5"
            }
        };
        println!(
            "| {name} | {:.1} ns | {:.1} ns | {} | {:.2} | {verdict} |",
            o.mean_ns[0], o.mean_ns[1], o.batches, o.max_t
        );
    }
    if failed {
        eprintln!("keycustody-ct: a verdict failed");
        std::process::exit(1);
    }
}
