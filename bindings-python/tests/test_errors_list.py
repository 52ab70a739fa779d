"""The exception classes come from one list (src/errors.rs, `_native._ERROR_CLASSES`): it is
checked here against core's error kinds, the test vectors, the `_errors` module and its stub,
and the README's table."""

import ast
import json
import re

import pytest

import keycustody as kc
import keycustody._errors as E
from conftest import REPO, VECTORS, code_of
from keycustody import _native

LIST = _native._ERROR_CLASSES
GROUPS = {"Error", "VerificationError"}


def vector_kinds():
    """Every error kind a vector file expects (the kinds core's `Error::kind()` produces there)."""
    kinds = set()

    def walk(o):
        if isinstance(o, dict):
            for k, v in o.items():
                if k == "expect" and isinstance(v, str) and v != "ok":
                    kinds.add(v)
                walk(v)
        elif isinstance(o, list):
            for x in o:
                walk(x)

    for f in sorted(VECTORS.glob("*.json")):
        walk(json.loads(f.read_text(encoding="utf-8")))
    return kinds


def test_list_is_one_class_one_kind_one_code():
    classes = [c for c, _, _ in LIST]
    kinds = [k for _, k, _ in LIST]
    codes = [c for _, _, c in LIST]
    assert len(set(classes)) == len(set(kinds)) == len(set(codes)) == len(LIST) > 0
    for _, kind, code in LIST:
        assert code == code_of(kind), (kind, code)


def test_list_covers_core_kinds():
    # Exactly core's `Error::KINDS`, in its order (also asserted when the extension builds),
    # and every kind the vectors expect.
    assert [k for _, k, _ in LIST] == list(_native._CORE_ERROR_KINDS)
    assert vector_kinds() <= {k for _, k, _ in LIST}, vector_kinds() - {k for _, k, _ in LIST}


def test_classes_take_kind_and_code_from_the_list():
    for cls_name, kind, code in LIST:
        cls = getattr(kc, cls_name)
        assert cls is getattr(E, cls_name) and issubclass(cls, kc.Error)
        assert (cls.kind, cls.code) == (kind, code)
    assert set(E.__all__) - GROUPS == {c for c, _, _ in LIST}


def test_raised_errors_carry_their_class_kind():
    kr = kc.Keyring.generate()
    with pytest.raises(kc.DecryptError) as ei:
        kr.open("b", kr.seal("a", b"x"))
    assert (ei.value.kind, ei.value.code) == (kc.DecryptError.kind, kc.DecryptError.code)
    with pytest.raises(kc.MalformedError) as ei:
        kc.inspect("nope")
    assert (ei.value.kind, ei.value.code) == (kc.MalformedError.kind, kc.MalformedError.code)


@pytest.mark.parametrize(
    "broken",
    [
        lambda l: l[1:],  # a class without a list entry
        lambda l: l + [("NoSuchError", "NoSuch", "KC_NO_SUCH")],  # an entry without a class
        lambda l: l + [l[0]],  # a duplicate entry
    ],
)
def test_errors_module_refuses_a_list_that_disagrees(monkeypatch, broken):
    monkeypatch.setattr(E, "_ERROR_CLASSES", broken(list(LIST)))
    with pytest.raises(ImportError, match="disagree"):
        E._bind_kinds()


def test_stub_declares_every_listed_class():
    stub = ast.parse((REPO / "bindings-python/python/keycustody/_errors.pyi").read_text(encoding="utf-8"))
    declared = {n.name for n in stub.body if isinstance(n, ast.ClassDef)}
    assert declared - GROUPS == {c for c, _, _ in LIST}


def test_readme_table_matches_the_list():
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text[text.index("<!-- BEGIN python -->") : text.index("<!-- END python -->")]
    table = section[section.index("| class | kind |") :]
    pairs = set()
    for row in table.splitlines()[2:]:
        if not row.startswith("|"):
            break
        cells = row.split("|")
        classes = [c for c in re.findall(r"`(\w+)`", cells[1]) if c.endswith("Error") and c not in GROUPS]
        kinds = re.findall(r"`(\w+)`", cells[2])
        assert len(classes) == len(kinds), row
        pairs |= set(zip(classes, kinds))
    assert pairs == {(c, k) for c, k, _ in LIST}, pairs ^ {(c, k) for c, k, _ in LIST}
