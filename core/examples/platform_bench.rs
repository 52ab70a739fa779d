//! `make bench-platform`: scrub() throughput on log-like text, beside baselines
//! measured in the same run. Writes a Markdown section to the path given (or stdout).
use std::time::Instant;

fn log_text(target: usize) -> String {
    let mut s = String::with_capacity(target + 512);
    let mut i: u64 = 0;
    while s.len() < target {
        i += 1;
        let x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        s.push_str(&format!(
            "2026-11-23T10:{:02}:{:02}.{:03}Z INFO request_id={:08x}-{:04x}-4{:03x}-a{:03x}-{:012x} method=GET path=/v1/agents/{}/messages status=200 duration_ms={} sha={:016x}{:016x}\n",
            (x >> 8) % 60, (x >> 16) % 60, (x >> 24) % 1000, x as u32, (x >> 32) as u16, x % 4096, (x >> 12) % 4096, x >> 16,
            x % 10_000, (x >> 20) % 900, x, x.rotate_left(17)
        ));
        if i.is_multiple_of(100) {
            s.push_str(&format!("2026-11-23T10:00:00Z WARN upstream said Authorization: Bearer sk-ant-api03-{:032x}AA\n", x));
        }
    }
    s
}

fn best_of<F: FnMut() -> usize>(n: usize, mut f: F) -> f64 {
    let mut best = f64::MAX;
    let mut sink = 0usize;
    for _ in 0..n {
        let t = Instant::now();
        sink = sink.wrapping_add(f());
        best = best.min(t.elapsed().as_secs_f64());
    }
    assert!(sink > 0);
    best
}

fn main() {
    let mib: usize = std::env::var("BENCH_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(16);
    let text = log_text(mib << 20);
    let mb = text.len() as f64 / 1e6;
    // Baseline 1: copying the text (memory bandwidth; an upper bound).
    let copy = best_of(3, || {
        std::hint::black_box(std::hint::black_box(&text).clone()).len()
    });
    // Baseline 2: what is often hand-written: one regex per secret shape, applied in turn.
    let patterns = [
        r"sk-ant-[A-Za-z0-9_-]{32,}",
        r"sk-or-[A-Za-z0-9_-]{32,}",
        r"sk-(?:proj-)?[A-Za-z0-9_-]{32,}",
        r"AIza[0-9A-Za-z_-]{35}",
        r"gh[pousr]_[A-Za-z0-9]{36,255}",
        r"(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,}",
        r"xox[abposr]-[A-Za-z0-9-]{10,}",
        r"[0-9]{8,10}:[A-Za-z0-9_-]{35}",
        r"eyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*",
        r"(?i)authorization\s*[:=]\s*[^\r\n]+",
        r"-----BEGIN [A-Z ]*PRIVATE KEY-----(?s:.*?)-----END [A-Z ]*PRIVATE KEY-----",
    ];
    let res: Vec<regex::Regex> = patterns
        .iter()
        .map(|p| regex::Regex::new(p).unwrap())
        .collect();
    let chain = best_of(3, || {
        let mut out = text.clone();
        for r in &res {
            out = r.replace_all(&out, "[REDACTED]").into_owned();
        }
        out.len()
    });
    eprintln!("copy {copy:.3}s chain {chain:.3}s");
    let ours = best_of(3, || keycustody::scrub(&text).len());
    eprintln!("ours {ours:.3}s");
    let out = keycustody::scrub(&text);
    assert!(
        !out.contains("sk-ant-api03-"),
        "bench text must be scrubbed"
    );
    let rate = |t: f64| mb / t;
    let md = format!(
        "## platform: scrub throughput\n\n\
         {mb:.0} MB of log-like text (request lines with UUIDs, paths and hex digests; 1 line in 100 carries a secret), best of 3, release build.\n\n\
         | figure | keycustody `scrub` | baseline | ratio | goal |\n|---|---|---|---|---|\n\
         | throughput vs. one regex per shape applied in turn ({} patterns, `regex` crate) | {:.0} MB/s | {:.0} MB/s | {:.2}× | ≥ 200 MB/s |\n\
         | throughput vs. copying the text (memory bound, upper limit) | {:.0} MB/s | {:.0} MB/s | {:.2}× | — |\n",
        patterns.len(),
        rate(ours), rate(chain), chain / ours,
        rate(ours), rate(copy), copy / ours,
    );
    match std::env::args().nth(1) {
        Some(path) => std::fs::write(path, &md).expect("write"),
        None => print!("{md}"),
    }
}
