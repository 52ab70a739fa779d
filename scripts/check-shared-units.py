#!/usr/bin/env python3
"""The wheel's extension (keycustody-python), the npm addon (keycustody-node) and the CLI
(keycustody-cli) of a target are built into one cargo target dir by scripts/dist.sh --smoke;
cargo reuses a dependency's build for the next only when both resolve it with the same features
(and profile). This compares the extension's unit graph with the other two (`cargo +nightly build --unit-graph`: resolution only, nothing is built)
and fails naming every crate both build differently, so a dependency change that would make
the smoke compile core and AWS-LC twice per target again is seen, not just slower.
Usage: scripts/check-shared-units.py PROFILE TARGET...
"""
import json
import subprocess
import sys

FIRST = "keycustody-python"
OTHERS = ("keycustody-node", "keycustody-cli")


def units(package, profile, target):
    run = subprocess.run(
        ["cargo", "+nightly", "build", "-q", "--locked", "-p", package, "--target", target,
         "--profile", profile, "--unit-graph", "-Z", "unstable-options"],
        check=False, capture_output=True, text=True)
    if run.returncode != 0:
        sys.exit(f"FATAL: cargo +nightly --unit-graph failed for {package} ({target}):\n{run.stderr}")
    out = run.stdout
    got = {}
    for u in json.loads(out)["units"]:
        key = (u["pkg_id"], u["target"]["name"], u["mode"], u["platform"] is None)
        got.setdefault(key, set()).add((tuple(u["features"]), json.dumps(u["profile"], sort_keys=True)))
    return got


def main():
    profile, targets = sys.argv[1], sys.argv[2:]
    bad = []
    for target in targets:
        a = units(FIRST, profile, target)
        for other in OTHERS:
            b = units(other, profile, target)
            shared = sorted(set(a) & set(b))
            differ = [k for k in shared if a[k] != b[k]]
            for key in differ:
                fa = sorted({f for fs, _ in a[key] for f in fs})
                fb = sorted({f for fs, _ in b[key] for f in fs})
                where = "host" if key[3] else target
                bad.append(f"  {key[0]} ({key[1]}, {where}): {FIRST} {fa}, {other} {fb}"
                           + ("" if fa != fb else " (same features, different profile)"))
            print(f"check-shared-units: {target}: {FIRST} and {other} both build {len(shared)} units, "
                  f"{len(shared) - len(differ)} alike")
    if bad:
        print("FATAL: these crates are built differently for the wheel's extension and another\n"
              "artifact, so cargo compiles them (and everything above them) twice per target; give\n"
              "the binding crates the same features for them (the 'Build sharing' lines of\n"
              "bindings-python/Cargo.toml and bindings-node/Cargo.toml):", file=sys.stderr)
        print("\n".join(bad), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
