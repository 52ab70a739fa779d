"""The Python package against the API manifest (tests/api.json, schema in tests/api.md).

Reads the compiled module's signatures (``inspect.signature``: pyo3's ``__text_signature__``)
and ``dir()``; fails on a name, parameter or default that differs from the manifest, and on a
public name the manifest does not list.
"""

import inspect
import json
import types

import keycustody as kc
from conftest import REPO

MANIFEST = json.loads((REPO / "tests" / "api.json").read_text(encoding="utf-8"))
EMPTY = inspect.Parameter.empty


def default_value(param):
    """The Python value of a manifest parameter's default (EMPTY when it has none)."""
    if "default" not in param:
        return EMPTY
    d = param["default"]
    if isinstance(d, dict):
        if "bytes" in d:
            return d["bytes"].encode()
        return d["value"]
    return d


def expected_params(entry):
    params = entry.get("params_override", {}).get("python", {}).get("params", entry["params"])
    return [(p["name"], default_value(p)) for p in params]


def actual_params(obj):
    sig = inspect.signature(obj)
    return [(n, p.default) for n, p in sig.parameters.items() if n not in ("self", "cls")]


def compare(problems, what, entry, obj):
    want = expected_params(entry)
    try:
        got = actual_params(obj)
    except (TypeError, ValueError) as e:
        problems.append(f"{what}: no readable signature ({e})")
        return
    # 32 == 32.0 and True == 1 would hide a changed type: compare the reprs too.
    if [(n, repr(d)) for n, d in want] != [(n, repr(d)) for n, d in got]:
        problems.append(f"{what}: manifest says {show(want)}, the module has {show(got)}")


def show(params):
    return "(" + ", ".join(n if d is EMPTY else f"{n}={d!r}" for n, d in params) + ")"


def public(names):
    return {n for n in names if not n.startswith("_")}


def check_python(manifest, module):
    """Every difference between `module` and the manifest, one line each."""
    problems = []
    known = {r["name"] for r in manifest["runtime_only"]["python"]}
    for f in manifest["functions"]:
        name = f["python"]
        if not name:
            continue
        known.add(name)
        obj = getattr(module, name, None)
        if not callable(obj):
            problems.append(f"function {name}: in the manifest, not in the module")
            continue
        compare(problems, f"function {name}", f, obj)
    for c in manifest["constants"]:
        name = c["python"]
        if not name:
            continue
        known.add(name)
        if getattr(module, name, None) != c["value"]:
            problems.append(f"constant {name}: manifest says {c['value']!r}, the module has {getattr(module, name, None)!r}")
    for c in manifest["classes"]:
        name = c["python"]
        if not name:
            continue
        known.add(name)
        cls = getattr(module, name, None)
        if not isinstance(cls, type):
            problems.append(f"class {name}: in the manifest, not in the module")
            continue
        ctor = c["constructor"]
        if ctor and ctor["python"]:
            compare(problems, f"{name}()", ctor, cls)
        wanted = set()
        for m in c["methods"]:
            mn = m["python"]
            if not mn:
                continue
            wanted.add(mn)
            attr = inspect.getattr_static(cls, mn, None)
            if attr is None:
                problems.append(f"{name}.{mn}: in the manifest, not in the class")
            elif m.get("property") and mn != "__len__":
                if not inspect.isdatadescriptor(attr):
                    problems.append(f"{name}.{mn}: the manifest says a property, the class has {type(attr).__name__}")
            else:
                compare(problems, f"{name}.{mn}", m, getattr(cls, mn))
        for extra in sorted(public(dir(cls)) - wanted):
            problems.append(f"{name}.{extra}: in the class, not in the manifest")
    names = public(dir(module)) | ({"__version__"} & set(dir(module)))
    names -= {"annotations"}  # `from __future__ import annotations`
    for extra in sorted(names - known):
        if not isinstance(getattr(module, extra), types.ModuleType):
            problems.append(f"{extra}: in the module, not in the manifest")
    return problems


def test_the_module_matches_the_manifest():
    assert check_python(MANIFEST, kc) == []


def fake_module(**changes):
    ns = types.SimpleNamespace(**{n: getattr(kc, n) for n in dir(kc) if not n.startswith("__") or n == "__version__"})
    for k, v in changes.items():
        if v is None:
            delattr(ns, k)
        else:
            setattr(ns, k, v)
    return ns


def test_the_checker_reports_an_extra_export():
    def sneaky_export(x):
        return x

    problems = check_python(MANIFEST, fake_module(sneaky_export=sneaky_export))
    assert "sneaky_export: in the module, not in the manifest" in problems


def test_the_checker_reports_a_missing_function_and_a_changed_default():
    problems = check_python(MANIFEST, fake_module(random_string=None))
    assert "function random_string: in the manifest, not in the module" in problems

    def verify_stripe_signature(payload, header, secret, tolerance=301, now=None):
        return 0

    problems = check_python(MANIFEST, fake_module(verify_stripe_signature=verify_stripe_signature))
    assert any(p.startswith("function verify_stripe_signature: manifest says") for p in problems), problems

    def totp_at(secret, now):  # `now` required again
        return ""

    problems = check_python(MANIFEST, fake_module(totp_at=totp_at))
    assert any(p.startswith("function totp_at: manifest says") for p in problems), problems


def test_the_checker_reports_an_extra_method():
    # pyo3 classes cannot be subclassed: a stand-in with the same members and one more.
    members = {n: inspect.getattr_static(kc.Keyring, n) for n in dir(kc.Keyring) if not n.startswith("__")}
    Keyring = type("Keyring", (), {**members, "sneaky": lambda self: None})
    problems = check_python(MANIFEST, fake_module(Keyring=Keyring))
    assert "Keyring.sneaky: in the class, not in the manifest" in problems


def test_defaults_are_core_constants():
    """Every default the manifest ties to a core constant is that constant's value (the Rust
    side, xtask, checks the values against core itself)."""
    seen = set()
    for f in MANIFEST["functions"] + [m for c in MANIFEST["classes"] for m in c["methods"] + [c["constructor"] or {"params": []}]]:
        for p in f["params"]:
            d = p.get("default")
            if isinstance(d, dict) and "const" in d:
                seen.add(d["const"])
    assert {"DEFAULT_TOLERANCE", "DEFAULT_KID", "DEFAULT_DERIVED_KEY_LEN", "DEFAULT_REPLAY_CAPACITY", "DEFAULT_REPLAY_TTL", "KEYRING_ENV_VAR"} <= seen
