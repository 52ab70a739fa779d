#!/usr/bin/env python3
"""Seeds fuzz/corpus/<target>/ from tests/vectors/*.json (run by mk/80-assurance.mk before fuzzing).

Every string leaf of every vector file becomes a seed, and so do the decoded bytes of `*_hex`
fields and of `kc1.`/`kcd1.`/`kcpk1.` texts, and every JSON object that looks like a keyring. Seeds
that do not fit a target are harmless: libFuzzer keeps only inputs that add coverage. The corpus
directory is gitignored; this script is idempotent (file names are content hashes).
"""
import base64
import binascii
import hashlib
import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
MAX_SEED = 64 * 1024


def b64url(s):
    try:
        return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
    except (binascii.Error, ValueError):
        return None


def leaves(node, key=""):
    if isinstance(node, dict):
        if "keys" in node and "version" in node:
            yield json.dumps(node).encode()
        for k, v in node.items():
            yield from leaves(v, k)
    elif isinstance(node, list):
        for v in node:
            yield from leaves(v, key)
    elif isinstance(node, str):
        # surrogatepass: strings_v1.json holds lone surrogates (its bytes are then not UTF-8,
        # which makes a fine seed).
        yield node.encode("utf-8", "surrogatepass")
        if key.endswith("_hex"):
            try:
                yield bytes.fromhex(node)
            except ValueError:
                pass
        for prefix in ("kc1.", "kcd1.", "kcpk1."):
            if node.startswith(prefix):
                raw = b64url(node[len(prefix):])
                if raw is not None:
                    yield raw


def main(targets):
    seeds = set()
    for f in sorted((ROOT / "tests" / "vectors").glob("*.json")):
        try:
            doc = json.loads(f.read_text())
        except (OSError, json.JSONDecodeError) as e:
            sys.exit(f"seed_corpus: cannot read {f}: {e}")
        seeds.update(s for s in leaves(doc) if 0 < len(s) <= MAX_SEED)
    for t in targets:
        d = ROOT / "fuzz" / "corpus" / t
        d.mkdir(parents=True, exist_ok=True)
        for s in seeds:
            (d / hashlib.sha1(s).hexdigest()).write_bytes(s)
    print(f"seed_corpus: {len(seeds)} seeds from tests/vectors into {len(targets)} corpora")


if __name__ == "__main__":
    main(sys.argv[1:])
