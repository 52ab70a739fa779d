"""Shared fixtures of the ORM suite (make test-orm): a keyring, the two databases (a SQLite
file and the PostgreSQL cluster the make target starts: DATABASE_URL is required, a run
without it FAILS), and the keycustody CLI (KEYCUSTODY_CLI) for the rewrap job."""

import os
import pathlib
import subprocess

import pytest

import keycustody


def pg_url():
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        pytest.fail("DATABASE_URL (a PostgreSQL URL) is required: run `make test-orm`")
    return url


def cli_path():
    p = os.environ.get("KEYCUSTODY_CLI", "")
    if not p or not os.access(p, os.X_OK):
        pytest.fail("KEYCUSTODY_CLI (the keycustody binary) is required: run `make test-orm`")
    return p


class Keys:
    """The application's keyring, replaceable in place (the fields take a callable)."""

    def __init__(self):
        self.kr = keycustody.Keyring.generate()

    def __call__(self):
        return self.kr

    def rotate(self):
        """A rotation: the app (and the job) load the rotated keyring."""
        self.kr.rotate()
        self.kr = keycustody.Keyring.parse(self.kr.export())

    def rewrap(self, db_url, table, owner_column, column, context):
        """`keycustody rewrap` over the table, with the current keyring; its --json report."""
        env = dict(os.environ, KEYCUSTODY_KEYRING=self.kr.export())
        env.pop("KEYCUSTODY_KEYRING_FILE", None)
        out = subprocess.run(
            [cli_path(), "rewrap", "--db", db_url, "--table", table, "--owner-column", owner_column,
             "--column", column, "--context", context, "--json"],
            env=env, capture_output=True, text=True, timeout=120,
        )
        assert out.returncode == 0, out.stderr
        return out.stdout


#: The one keyring the test models' fields read (a callable: resolved at first use).
KEYS = Keys()


