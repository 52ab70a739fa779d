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


def quickstart_sh_block():
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text[text.index("<!-- BEGIN python -->") : text.index("<!-- END python -->")]
    return re.findall(r"```sh\n(.*?)```", section, flags=re.S)[1]


def test_readme_quickstart_runs_in_a_fresh_virtualenv(tmp_path):
    """The quickstart as a new user runs it: a fresh virtualenv, no KEYCUSTODY_KEYRING in the
    environment, the README's ```sh block (its `pip install keycustody` installs a wheel of the
    package built here, not PyPI's), then the ```python blocks as one script, in the same shell."""
    import os
    import shutil
    import subprocess
    import sys

    sh = quickstart_sh_block()
    assert re.search(r"^pip install keycustody$", sh, flags=re.M), sh
    assert re.search(r"^export KEYCUSTODY_KEYRING=", sh, flags=re.M), "the quickstart shows how to make KEYCUSTODY_KEYRING"
    # A wheel of the package built here (maturin reuses the release build of `maturin develop`).
    wheels = tmp_path / "wheels"
    maturin = shutil.which("maturin", path=os.path.dirname(sys.executable)) or "maturin"
    r = subprocess.run(
        [maturin, "build", "--release", "--locked", "--quiet", "--out", str(wheels)],
        cwd=REPO / "bindings-python",
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    (wheel,) = wheels.glob("keycustody-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    app = tmp_path / "app"
    app.mkdir()
    (app / "quickstart.py").write_text("\n".join(python_blocks()), encoding="utf-8")
    script = re.sub(
        r"^pip install keycustody$",
        f"pip install --quiet --no-index --no-deps --disable-pip-version-check '{wheel}'",
        sh,
        flags=re.M,
    )
    # A fresh environment: the new virtualenv first on PATH ("activated"), nothing else of ours.
    env = {"PATH": f"{venv / 'bin'}:{os.environ['PATH']}", "HOME": str(tmp_path), "VIRTUAL_ENV": str(venv)}
    run = lambda s: subprocess.run(["bash", "-euo", "pipefail", "-c", s], cwd=app, env=env, capture_output=True, text=True)  # noqa: E731
    # Without the keyring command, the first error names the variable.
    bare = run(re.sub(r"^export KEYCUSTODY_KEYRING=.*$", "", script, flags=re.M) + "\npython quickstart.py")
    assert bare.returncode != 0
    assert "environment variable KEYCUSTODY_KEYRING is not set" in bare.stderr, bare.stderr
    r = run(script + "\npython -c 'import keycustody, sys; print(keycustody.__file__)'\npython quickstart.py")
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith(str(venv)), f"keycustody was not loaded from the fresh virtualenv: {lines[0]}"
    assert "DecryptFailed KC_DECRYPT_FAILED" in r.stdout
    assert "Keyring(primary_kid=2, keys=[(1, 'decrypt-only'), (2, 'active')])" in r.stdout
    assert "[REDACTED:" in r.stdout and "x" * 40 not in r.stdout
