"""Shared helpers of the keycustody Python tests."""

import pathlib

import keycustody
from keycustody import _native

REPO = pathlib.Path(__file__).resolve().parents[2]
VECTORS = REPO / "tests" / "vectors"

# Every core error kind and the one Python class it must raise: the binding's one list
# (src/errors.rs, `_native._ERROR_CLASSES`; checked against core's kinds, the stubs and the
# README by test_errors_list.py).
KIND_CLASS = {kind: getattr(keycustody, cls) for cls, kind, _ in _native._ERROR_CLASSES}


def code_of(kind):
    """KC_ + the kind in SCREAMING_SNAKE_CASE (DecryptFailed -> KC_DECRYPT_FAILED)."""
    out = []
    for i, ch in enumerate(kind):
        if ch.isupper() and i:
            out.append("_")
        out.append(ch.upper())
    return "KC_" + "".join(out)


def assert_kc_error(excinfo, kind):
    """The raised exception is exactly the class of `kind`, with matching kind and code."""
    e = excinfo.value
    assert type(e) is KIND_CLASS[kind], (type(e), kind)
    assert e.kind == kind
    assert e.code == code_of(kind)
