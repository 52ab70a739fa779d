"""The README's Python quickstart against the wheel of `make dist`, as a new user runs it.

Run by scripts/test-dist.sh with the fresh venv's pytest (the venv into which the wheel from
KC_DIST_DIR was installed; never the source tree): the README's ```sh block, in bash, with the
venv first on PATH and nothing of ours in the environment: its `pip install keycustody` (from
KC_DIST_DIR, no index: the installed wheel satisfies it), its "create the keyring" command (`export
KEYCUSTODY_KEYRING=...`), then the ```python blocks as one script. The blocks are the ones
bindings-python/tests/test_readme.py extracts (and runs against the development build).
"""

import os
import pathlib
import re
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bindings-python" / "tests"))

from test_readme import python_blocks, quickstart_sh_block  # noqa: E402


def test_readme_python_quickstart_runs_on_the_installed_wheel(tmp_path):
    dist, version = os.environ["KC_DIST_DIR"], os.environ["KC_DIST_VERSION"]
    venv = pathlib.Path(sys.prefix)
    assert venv != pathlib.Path(sys.base_prefix), "not run from the fresh venv"
    sh = quickstart_sh_block()
    assert re.search(r"^pip install keycustody$", sh, flags=re.M), sh
    assert re.search(r"^export KEYCUSTODY_KEYRING=", sh, flags=re.M), "the quickstart creates KEYCUSTODY_KEYRING"
    script = re.sub(
        r"^pip install keycustody$",
        f"pip install --quiet --disable-pip-version-check --no-index --find-links '{dist}/python' 'keycustody=={version}'",
        sh,
        flags=re.M,
    )
    app = tmp_path / "app"
    app.mkdir()
    (app / "quickstart.py").write_text("\n".join(python_blocks()), encoding="utf-8")
    env = {"PATH": f"{venv / 'bin'}:{os.environ['PATH']}", "HOME": str(tmp_path), "VIRTUAL_ENV": str(venv)}

    def run(s):
        return subprocess.run(["bash", "-euo", "pipefail", "-c", s], cwd=app, env=env, capture_output=True, text=True)

    # Without the keyring command, the first error names the variable.
    bare = run(re.sub(r"^export KEYCUSTODY_KEYRING=.*$", "", script, flags=re.M) + "\npython quickstart.py")
    assert bare.returncode != 0
    assert "environment variable KEYCUSTODY_KEYRING is not set" in bare.stderr, bare.stderr
    r = run(script + "\npython -c 'import keycustody; print(keycustody.__file__)'\npython quickstart.py")
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith(str(venv / "lib")) and "site-packages" in lines[0], lines[0]
    assert "DecryptFailed KC_DECRYPT_FAILED" in r.stdout
    assert "Keyring(primary_kid=2, keys=[(1, 'decrypt-only'), (2, 'active')])" in r.stdout
    assert "[REDACTED:" in r.stdout and "x" * 40 not in r.stdout
