//! `make bench-scrub`: scrub() throughput on plain log text beside the two crafted inputs
//! of issue 12 (which were quadratic before), at 1 MiB and 16 MiB, measured in one run.
//! Writes a Markdown section to the path given (or stdout). Not a test: nothing is asserted.
use std::time::Instant;

fn plain(target: usize) -> String {
    let mut s = String::with_capacity(target + 512);
    let mut i: u64 = 0;
    while s.len() < target {
        i += 1;
        let x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        s.push_str(&format!(
            "2026-11-23T10:{:02}:{:02}.{:03}Z INFO request_id={:08x}-{:04x}-4{:03x}-a{:03x}-{:012x} method=GET path=/v1/agents/{}/messages status=200 duration_ms={} sha={:016x}{:016x}\n",
            (x >> 8) % 60, (x >> 16) % 60, (x >> 24) % 1000, x as u32, (x >> 32) as u16, x % 4096,
            (x >> 12) % 4096, x >> 16, x % 10_000, (x >> 20) % 900, x, x.rotate_left(17)
        ));
        if i.is_multiple_of(100) {
            s.push_str(&format!(
                "2026-11-23T10:00:00Z WARN upstream said Authorization: Bearer sk-ant-api03-{x:032x}AA\n"
            ));
        }
    }
    s.truncate(target);
    s
}

fn repeated(unit: &str, target: usize) -> String {
    let mut s = unit.repeat(target / unit.len() + 1);
    s.truncate(target);
    s
}

/// Best of `n` runs, in seconds.
fn best_of(n: usize, text: &str) -> f64 {
    let mut best = f64::MAX;
    let mut sink = 0usize;
    for _ in 0..n {
        let t = Instant::now();
        sink = sink.wrapping_add(keycustody::scrub(std::hint::black_box(text)).len());
        best = best.min(t.elapsed().as_secs_f64());
    }
    assert!(sink > 0);
    best
}

fn main() {
    let crafted_1 = "x-api-key:aaaaaaaaaaaaaaaaauthorization: ";
    let crafted_2 = concat!("authorization: x -----BEGIN PRIVATE", " KEY-----\n");
    let mut md = String::new();
    md.push_str("## scrub\n\n");
    md.push_str("`scrub()` on plain log text (a secret every 100 lines) and on the two inputs of issue 12 that were quadratic before (`x-api-key:aaaaaaaaaaaaaaaaauthorization: ` repeated; `authorization: x ` followed by a PEM private-key BEGIN line, repeated), best of 5 (3 at 16 MiB), same run. Ratio = plain throughput / crafted throughput (lower is better). Goal: ≤ 3×.\n\n");
    md.push_str("| size | input | MB/s | plain / this | goal |\n|---|---|---|---|---|\n");
    for mib in [1usize, 16] {
        let len = mib << 20;
        let runs = if mib == 1 { 5 } else { 3 };
        let p = plain(len);
        let plain_s = best_of(runs, &p);
        let mbps = |s: f64| len as f64 / 1e6 / s;
        md.push_str(&format!(
            "| {mib} MiB | plain log text | {:.1} | 1.00× | |\n",
            mbps(plain_s)
        ));
        for (name, unit) in [
            ("crafted 1 (x-api-key/authorization)", crafted_1),
            ("crafted 2 (authorization/PEM private-key line)", crafted_2),
        ] {
            let t = repeated(unit, len);
            let s = best_of(runs, &t);
            let ratio = s / plain_s;
            md.push_str(&format!(
                "| {mib} MiB | {name} | {:.1} | {ratio:.2}× | ≤ 3× {} |\n",
                mbps(s),
                if ratio <= 3.0 { "met" } else { "**missed**" }
            ));
        }
    }
    match std::env::args().nth(1) {
        Some(path) => std::fs::write(&path, &md).expect("write the report"),
        None => print!("{md}"),
    }
}
