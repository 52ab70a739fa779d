//! The core side of the Node benchmark's per-call overhead rows: the same core calls the
//! binding makes, timed in a loop in Rust (`make bench-node` runs it in the same run and
//! subtracts). Prints one JSON object: nanoseconds per call by figure name.
//!
//! Usage: `core_calls ROOT_HEX OWNER CONTEXT` (the bench's own key, owner and context).
#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::{Duration, Instant};

/// This thread's CPU time in nanoseconds (`/proc/thread-self/schedstat`, Linux), or wall
/// time where that cannot be read.
fn thread_cpu_ns(fallback: Instant) -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        .unwrap_or_else(|| fallback.elapsed().as_nanos() as f64)
}

/// CPU nanoseconds per call of `f`: the best of 7 rounds over about `ms` milliseconds in
/// all, after a warm-up (as bench.mjs measures the binding: the least disturbed round counts).
fn per_call<T>(ms: u64, mut f: impl FnMut() -> T) -> f64 {
    for _ in 0..200 {
        black_box(f());
    }
    let epoch = Instant::now();
    let limit = Duration::from_millis(ms) / 7;
    let mut best = f64::INFINITY;
    for _ in 0..7 {
        let start = Instant::now();
        let c0 = thread_cpu_ns(epoch);
        let mut n: u64 = 0;
        let mut batch: u64 = 1;
        while start.elapsed() < limit {
            for _ in 0..batch {
                black_box(f());
            }
            n += batch;
            if batch < 4096 {
                batch *= 2;
            }
        }
        best = best.min((thread_cpu_ns(epoch) - c0) / n as f64);
    }
    best
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [root_hex, owner, context] = args.as_slice() else {
        eprintln!("usage: core_calls ROOT_HEX OWNER CONTEXT");
        std::process::exit(2);
    };
    let root: Vec<u8> = (0..root_hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&root_hex[i..i + 2], 16).unwrap())
        .collect();
    let kr = keycustody::Keyring::from_secret(&root, 1).unwrap();
    let ctx = context.as_bytes();
    let small = vec![7u8; 64];
    let big = vec![7u8; 1 << 20];
    let env64 = kr.seal(owner, &small, ctx).unwrap();
    let bin64 = kr.seal_binary(owner, &small, ctx).unwrap();
    let env1m = kr.seal(owner, &big, ctx).unwrap();
    let bin1m = kr.seal_binary(owner, &big, ctx).unwrap();
    let rows = [
        (
            "seal 64 B",
            per_call(400, || kr.seal(owner, &small, ctx).unwrap()),
        ),
        (
            "open 64 B",
            per_call(400, || kr.open(owner, &env64, ctx).unwrap()),
        ),
        (
            "sealBinary 64 B",
            per_call(400, || kr.seal_binary(owner, &small, ctx).unwrap()),
        ),
        (
            "openBinary 64 B",
            per_call(400, || kr.open_binary(owner, &bin64, ctx).unwrap()),
        ),
        (
            "seal 1 MiB",
            per_call(600, || kr.seal(owner, &big, ctx).unwrap()),
        ),
        (
            "open 1 MiB",
            per_call(600, || kr.open(owner, &env1m, ctx).unwrap()),
        ),
        (
            "sealBinary 1 MiB",
            per_call(600, || kr.seal_binary(owner, &big, ctx).unwrap()),
        ),
        (
            "openBinary 1 MiB",
            per_call(600, || kr.open_binary(owner, &bin1m, ctx).unwrap()),
        ),
    ];
    let body: Vec<String> = rows
        .iter()
        .map(|(k, v)| format!("\"{k}\": {v:.1}"))
        .collect();
    println!("{{{}}}", body.join(", "));
}
