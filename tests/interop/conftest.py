"""Shared fixtures of the interop tests: the Rust side is core's `interop` example
(core/examples/interop.rs), built once per session."""
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def interop_bin():
    subprocess.run(
        ["cargo", "build", "-q", "--locked", "-p", "keycustody", "--example", "interop"],
        cwd=ROOT,
        check=True,
    )
    target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    exe = target / "debug" / "examples" / "interop"
    assert exe.exists(), exe
    return exe
