"""The Python package against the API manifest (tests/api.json, schema in tests/api.md).

Reads the compiled module's signatures (``inspect.signature``: pyo3's ``__text_signature__``)
and ``dir()``; fails on a name, parameter or default that differs from the manifest, and on a
public name the manifest does not list.
"""

import base64
import inspect
import json
import os
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


def test_the_compiled_module_exports_nothing_unlisted():
    """A function compiled into keycustody._native but not re-exported is a forgotten export."""
    from keycustody import _native

    listed = {e["python"] for e in MANIFEST["functions"] + MANIFEST["classes"] + MANIFEST["constants"] if e["python"]}
    listed |= {r["name"] for r in MANIFEST["runtime_only"]["python"]}
    assert public(dir(_native)) - listed == set()


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


# Item 3: each default the manifest ties to a core constant, probed with the argument omitted
# (the signature check above reads pyo3's text_signature, which is written by hand).
SECRET32 = b"k" * 32
T0 = 1_700_000_000


def _openssl_file(password, iterations):
    from cryptography.hazmat.primitives import hashes, padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

    salt = b"kc-pyca!"
    km = PBKDF2HMAC(hashes.SHA256(), 48, salt, iterations).derive(password)
    padder = padding.PKCS7(128).padder()
    enc = Cipher(algorithms.AES(km[:32]), modes.CBC(km[32:])).encryptor()
    return b"Salted__" + salt + enc.update(padder.update(b"file") + padder.finalize()) + enc.finalize()


def _probe_stripe(v):
    header = kc.sign_stripe_payload(b"{}", "whsec_test", T0)
    assert kc.verify_stripe_signature(b"{}", header, "whsec_test", now=T0 + v) == T0
    try:
        kc.verify_stripe_signature(b"{}", header, "whsec_test", now=T0 + v + 1)
    except kc.TimestampError:
        return
    raise AssertionError("accepted past the tolerance")


def _probe_standard(v):
    secret = "whsec_" + base64.b64encode(bytes([1]) * 32).decode()
    sig = kc.sign_standard_webhook(b"{}", "msg_1", T0, secret)
    headers = {"webhook-id": "msg_1", "webhook-timestamp": str(T0), "webhook-signature": sig}
    assert kc.verify_standard_webhook(b"{}", headers, secret, now=T0 + v) == T0
    try:
        kc.verify_standard_webhook(b"{}", headers, secret, now=T0 + v + 1)
    except kc.TimestampError:
        return
    raise AssertionError("accepted past the tolerance")


def _probe_ttl(v):
    g = kc.ReplayGuard()
    g.check_and_record("evt", T0)
    try:
        g.check_and_record("evt", T0 + v)
    except kc.ReplayError:
        g.check_and_record("evt", T0 + v + 1)  # expired: accepted again
        return
    raise AssertionError(f"not replayed at +{v}")


def _probe_env(v):
    before = os.environ.get(v)
    os.environ[v] = kc.Keyring.from_secret(SECRET32).export()
    try:
        assert len(kc.Keyring.from_env().kids()) == 1
    finally:
        if before is None:
            del os.environ[v]
        else:
            os.environ[v] = before


KEY20 = bytes([9]) * 20
PROBES = {
    "verify_stripe_signature.tolerance": _probe_stripe,
    "verify_standard_webhook.tolerance": _probe_standard,
    "totp_raw_at.period": lambda v: (
        kc.totp_raw_at(KEY20, 2 * v) == kc.totp_raw_at(KEY20, 2 * v, v) != kc.totp_raw_at(KEY20, 2 * v, v + 1)
    )
    or _fail("another period"),
    "totp_raw_at.digits": lambda v: len(kc.totp_raw_at(KEY20, 59)) == v or _fail("another length"),
    "decrypt_openssl_enc.iterations": lambda v: kc.decrypt_openssl_enc(_openssl_file(b"pw", v), b"pw") == b"file"
    or _fail("not decrypted"),
    "decrypt_legacy_pbkdf2_gcm.iterations": None,  # probed by test_api's legacy tests (100,000)
    "Keyring.from_env.var": _probe_env,
    "Keyring.from_secret.kid": lambda v: kc.Keyring.from_secret(SECRET32).primary_kid == v or _fail("another kid"),
    "Keyring.derive_key.length": lambda v: len(kc.Keyring.from_secret(SECRET32).derive_key("p", "t")) == v
    or _fail("another length"),
    "ReplayGuard.new.capacity": lambda v: kc.ReplayGuard().capacity == v or _fail("another capacity"),
    "ReplayGuard.new.ttl_seconds": _probe_ttl,
    "TenantKeyringCache.new.capacity": lambda v: kc.TenantKeyringCache().capacity == v or _fail("another capacity"),
    "TenantKeyringCache.new.ttl_secs": lambda v: _probe_cache_ttl(v),
}


def _probe_cache_ttl(v):
    c = kc.TenantKeyringCache()
    c.insert("t", kc.Keyring.from_secret(SECRET32), now=T0)
    assert c.get("t", now=T0 + v - 1) is not None, f"expired before +{v}"
    assert c.get("t", now=T0 + v) is None, f"still cached at +{v}"


def _fail(why):
    raise AssertionError(why)


def const_defaults(manifest):
    """(probe id, constant name, value) of every default tied to a core constant, for Python."""
    out = []

    def visit(key, entry):
        if not entry or not entry.get("python"):
            return
        for p in entry.get("params_override", {}).get("python", {}).get("params", entry["params"]):
            d = p.get("default")
            if isinstance(d, dict) and "const" in d:
                out.append((f"{key}.{p['name']}", d["const"], d["value"]))

    for f in manifest["functions"]:
        visit(f["python"], f)
    for c in manifest["classes"]:
        visit(f"{c['python']}.new", c["constructor"])
        for m in c["methods"]:
            visit(f"{c['python']}.{m['python']}", m)
    return out


def check_defaults(manifest, skip=()):
    problems = []
    for probe_id, const, value in const_defaults(manifest):
        if probe_id not in PROBES:
            problems.append(f"{probe_id}: defaults to {const} but test_manifest.py has no probe for it")
            continue
        if PROBES[probe_id] is None or probe_id in skip:
            continue
        try:
            PROBES[probe_id](value)
        except Exception as e:  # noqa: BLE001 - every failure is a finding
            problems.append(f"{probe_id}: omitted is not {const} ({value}): {type(e).__name__} {e}")
    return problems


# verify_standard_webhook's probe needs the header-mapping form of branch errors13.
PENDING = () if "headers" in inspect.signature(kc.verify_standard_webhook).parameters else ("verify_standard_webhook.tolerance",)


def test_omitted_arguments_take_cores_defaults():
    assert check_defaults(MANIFEST, skip=PENDING) == []


def test_the_default_probes_catch_a_drifted_default():
    drifted = json.loads(json.dumps(MANIFEST))
    ctor = next(c for c in drifted["classes"] if c["python"] == "ReplayGuard")["constructor"]
    ctor["params"][1]["default"]["value"] = 86400  # the TTL Python had before issue 13
    assert any(p.startswith("ReplayGuard.new.ttl_seconds: omitted is not") for p in check_defaults(drifted, PENDING))
    unprobed = json.loads(json.dumps(MANIFEST))
    next(f for f in unprobed["functions"] if f["python"] == "random_token")["params"][0]["default"] = {
        "const": "NEW_DEFAULT",
        "value": 32,
    }
    assert any(p.startswith("random_token.nbytes: defaults to NEW_DEFAULT") for p in check_defaults(unprobed, PENDING))
