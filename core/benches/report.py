"""Writes the core benchmark section (Markdown) from criterion's estimates.

Usage: python3 core/benches/report.py TARGET_DIR/criterion > bench-out/core.md
Uses the median of each benchmark; every ratio compares figures from the same run.
"""
import sys

from criterion_md import Estimates, print_table

ns = Estimates(sys.argv[1], "report.py")


def fmt_time(t):
    return f"{t / 1000:.2f} µs" if t < 1e6 else f"{t / 1e6:.3f} ms"


def mibs(size, t):
    return f"{size / (1 << 20) / (t / 1e9):,.0f} MiB/s"


rows = []
misses = []
for op in ("seal", "open"):
    for size, label in ((64, "64B"), (1024, "1KiB")):
        ours, base = ns(f"kc1_{op}/{label}"), ns(f"ring_hkdf_{op}/{label}")
        ratio = ours / base
        goal = "≤ 1.30× time" if label == "64B" else "(info)"
        ok = ratio <= 1.3
        if label == "64B" and not ok:
            misses.append(f"{op} {label}")
        rows.append((f"kc1 {op} {label} (per-call HKDF)", fmt_time(ours), f"ring + hkdf crate, Extract+Expand per call: {fmt_time(base)}",
                     f"{ratio:.2f}× time", goal, ("met" if ok else "MISSED") if label == "64B" else "-"))
    size = 1 << 20
    ours, base = ns(f"kc1_{op}/1MiB"), ns(f"ring_{op}/1MiB")
    ratio = base / ours  # throughput ratio
    ok = ratio >= 0.9
    if not ok:
        misses.append(f"{op} 1MiB")
    rows.append((f"kc1 {op} 1 MiB", mibs(size, ours), f"raw ring AES-256-GCM, prepared key: {mibs(size, base)}",
                 f"{ratio:.2f}× throughput", "≥ 0.90× throughput", "met" if ok else "MISSED"))
    hk = ns(f"ring_hkdf_{op}/1MiB")
    rows.append((f"ring + hkdf {op} 1 MiB (info)", mibs(size, hk), f"raw ring: {mibs(size, base)}", f"{base / hk:.2f}× throughput", "(info)", "-"))

print("## core: kc1 envelopes\n")
print("`cargo bench -p keycustody --bench envelope` (criterion, medians, short run; every baseline measured in the same run).")
print("Ours: `Keyring::seal_binary` / `open_binary` — HKDF-Expand from the cached PRK per call, random nonce, AAD with owner")
print("and context, AES-256-GCM on AWS-LC from the input straight into the output (out of place, no copy), and (open) a")
print("plaintext buffer wiped on drop. Baselines: raw ring (the backend before AWS-LC), in place on a copy of their input.\n")
print("Short runs: on a loaded machine ratios within ~10% of 1.0 are noise; the goals leave room for it.\n")
print_table(rows)
print("All goals met." if not misses else "Missed: " + ", ".join(misses) + " (see docs/kc1.md and the notes in core/benches/envelope.rs).")
