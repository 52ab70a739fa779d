"""Runs the Python code blocks of the README's `python` section, in order, in one namespace."""

import re

import pytest

import keycustody as kc
from conftest import REPO


def python_blocks():
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text[text.index("<!-- BEGIN python -->") : text.index("<!-- END python -->")]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


def package_readme_blocks():
    """The quickstart of bindings-python/README.md (the package's page on PyPI)."""
    text = (REPO / "bindings-python" / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def test_package_readme_quickstart_runs(monkeypatch):
    blocks = package_readme_blocks()
    assert blocks
    monkeypatch.setenv("KEYCUSTODY_KEYRING", kc.Keyring.generate().export())
    for block in blocks:
        exec(compile(block, "bindings-python/README.md", "exec"), {"__name__": "readme"})


def test_readme_quickstart_runs(monkeypatch, capsys):
    blocks = python_blocks()
    assert len(blocks) >= 2
    monkeypatch.setenv("KEYCUSTODY_KEYRING", kc.Keyring.generate().export())
    ns = {"__name__": "readme"}
    for block in blocks:
        exec(compile(block, "README.md", "exec"), ns)
    out = capsys.readouterr().out
    assert "DecryptFailed KC_DECRYPT_FAILED" in out
    assert "Keyring(primary_kid=2, keys=[(1, 'decrypt-only'), (2, 'active')])" in out
    assert "[REDACTED:" in out and "x" * 40 not in out
    # The rotation loop rewrapped every row onto the new primary.
    assert all(not ns["keyring"].needs_rewrap(v) for v in ns["db"].values())


@pytest.mark.parametrize("blocks", [python_blocks, package_readme_blocks], ids=["README.md", "bindings-python/README.md"])
def test_readme_quickstart_type_checks(tmp_path, blocks):
    """The documented usage type-checks against the stubs (mypy --strict)."""
    import subprocess
    import sys

    src = tmp_path / "quickstart.py"
    src.write_text("\n".join(blocks()), encoding="utf-8")
    r = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir", str(tmp_path / ".mypy"), str(src)],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stdout + r.stderr
