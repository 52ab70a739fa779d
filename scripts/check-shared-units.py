#!/usr/bin/env python3
"""The wheel's extension (keycustody-python) and the npm addon (keycustody-node) of a target are
built into one cargo target dir by scripts/dist.sh --smoke; cargo reuses a dependency's build
for the second only when both resolve it with the same features (and profile). This compares
the two unit graphs (`cargo +nightly build --unit-graph`: resolution only, nothing is built)
and fails naming every crate both build differently, so a dependency change that would make
the smoke compile core and AWS-LC twice per target again is seen, not just slower.
Usage: scripts/check-shared-units.py PROFILE TARGET...
"""
import json
import subprocess
import sys

PACKAGES = ("keycustody-python", "keycustody-node")


def units(package, profile, target):
    out = subprocess.run(
        ["cargo", "+nightly", "build", "-q", "--locked", "-p", package, "--target", target,
         "--profile", profile, "--unit-graph", "-Z", "unstable-options"],
        check=True, capture_output=True, text=True).stdout
    got = {}
    for u in json.loads(out)["units"]:
        key = (u["pkg_id"], u["target"]["name"], u["mode"], u["platform"] is None)
        got.setdefault(key, set()).add((tuple(u["features"]), json.dumps(u["profile"], sort_keys=True)))
    return got


def main():
    profile, targets = sys.argv[1], sys.argv[2:]
    bad = []
    for target in targets:
        a, b = (units(p, profile, target) for p in PACKAGES)
        shared = sorted(set(a) & set(b))
        for key in shared:
            if a[key] != b[key]:
                fa = sorted({f for fs, _ in a[key] for f in fs})
                fb = sorted({f for fs, _ in b[key] for f in fs})
                where = "host" if key[3] else target
                bad.append(f"  {key[0]} ({key[1]}, {where}): {PACKAGES[0]} {fa}, {PACKAGES[1]} {fb}"
                           + ("" if fa != fb else " (same features, different profile)"))
        print(f"check-shared-units: {target}: {len(shared)} units both build, "
              f"{len(shared) - sum(1 for k in shared if a[k] != b[k])} alike")
    if bad:
        print("FATAL: the wheel's extension and the npm addon build these crates differently, so\n"
              "cargo would compile them (and everything above them) twice per target; give the two\n"
              "binding crates the same features for them (see the 'Build sharing' lines in\n"
              "bindings-python/Cargo.toml and bindings-node/Cargo.toml):", file=sys.stderr)
        print("\n".join(bad), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
