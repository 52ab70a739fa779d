"""Fixtures of the ORM suite (helpers in orm_common.py)."""

import pathlib

import keycustody
import pytest

from orm_common import KEYS


@pytest.fixture
def keys():
    KEYS.kr = keycustody.Keyring.generate()
    return KEYS


@pytest.fixture
def sqlite_path(tmp_path: pathlib.Path):
    p = tmp_path / "orm.sqlite3"
    p.touch()
    return p
