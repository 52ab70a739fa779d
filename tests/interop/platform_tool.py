"""Shared helpers for tests/interop/test_platform_*.py: the Rust side is the
`platform_interop` example of the keycustody crate (core/examples/platform_interop.rs)."""
import base64
import json
import os
import pathlib
import subprocess

ROOT = pathlib.Path(__file__).resolve().parents[2]
VECTORS = ROOT / "tests" / "vectors"
BIN = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "debug" / "examples" / "platform_interop"
ROOT_SECRET = bytes(range(32))
KEYRING = json.dumps(
    {"version": 1, "primary": 1, "keys": [{"kid": 1, "state": "active",
     "secret": base64.urlsafe_b64encode(ROOT_SECRET).decode().rstrip("=")}]}
)


class RustError(Exception):
    """The tool failed; .kind is the core error kind (e.g. SignatureInvalid)."""

    def __init__(self, kind):
        super().__init__(kind)
        self.kind = kind


def rust(*args, stdin=b""):
    if not BIN.exists():
        raise RuntimeError(f"{BIN} missing: cargo build -p keycustody --example platform_interop")
    p = subprocess.run([str(BIN), *map(str, args)], input=stdin, capture_output=True, timeout=60)
    if p.returncode == 1:
        raise RustError(p.stderr.decode().strip())
    if p.returncode != 0:
        raise RuntimeError(p.stderr.decode())
    return p.stdout


def vectors(name):
    data = json.loads((VECTORS / f"{name}_v1.json").read_text())
    assert data["version"] == 1
    return data["cases"]


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
