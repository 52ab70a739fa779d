"""Audit-chain interop (issue 15 item 2): every case of tests/vectors/audit_v1.json (written by
the Rust core through xtask) recomputed by the independent Python reference audit_ref.py
(from docs/audit.md): the audit keys, every entry's MAC, the reports, the checkpoints, and
every refusal with the same kind, seq and reason. Run: make test-core-interop
"""
import json
import pathlib

import pytest

import audit_ref as ref

ROOT = pathlib.Path(__file__).resolve().parents[2]
CASES = json.loads((ROOT / "tests" / "vectors" / "audit_v1.json").read_text(encoding="utf-8"))["cases"]


def entry(line):
    return None if line is None else ref.parse_entry(line.encode("utf-8"))


def run(c):
    """Returns (field, value) to compare with the case, or None."""
    op = c["op"]
    if op == "audit_key":
        roots, _ = ref.parse_keyring(c["keyring"])
        return "key_hex", ref.audit_key(roots[c["kid"]], c["scope"]).hex()
    ch = ref.Chain(c["keyring"], c["scope"])
    if op == "append":
        prev = entry(c["prev"])
        e = ch.next(prev, c["event"], c["ts"])
        return "entry", ref.entry_text(e).decode("utf-8")
    if op == "chain":
        entries = [entry(l) for l in c["entries"]]
        return "report", ch.verify_run(entries, entry(c["after"]))
    if op == "checkpoint":
        return "checkpoint", ch.checkpoint(entry(c["head"]), c["ts"])
    if op == "check_checkpoint":
        cp = ref.parse_checkpoint(c["checkpoint"])
        entries = [entry(l) for l in c["entries"]]
        report = ch.verify_run(entries)
        at = entries[cp["seq"] - 1] if 1 <= cp["seq"] <= len(entries) else None
        ch.check_against(cp, report, at)
        return None
    raise AssertionError(f"unknown op {op}")


@pytest.mark.parametrize("c", CASES, ids=[c["name"] for c in CASES])
def test_vector(c):
    if c["expect"] == "ok":
        out = run(c)
        if out is not None:
            field, value = out
            assert value == c[field], field
        return
    with pytest.raises(ref.AuditError) as ei:
        run(c)
    e = ei.value
    assert e.kind == c["expect"]
    if e.kind == "AuditBroken":
        assert (e.seq, e.reason) == (c["seq"], c["reason"])
    if e.kind == "Malformed":
        assert e.detail == c["detail"]


def test_every_ok_entry_is_recomputed_byte_for_byte():
    # Each valid line of every ok chain: its MAC recomputed from scratch and its text rebuilt.
    n = 0
    for c in CASES:
        if c["op"] != "chain" or c["expect"] != "ok":
            continue
        ch = ref.Chain(c["keyring"], c["scope"])
        for line in c["entries"]:
            e = ref.parse_entry(line.encode("utf-8"))
            assert ref.entry_text(e).decode("utf-8") == line
            assert ref.entry_mac(ch.keys, e, e["seq"]) == e["mac"]
            n += 1
    assert n >= 20


def test_the_reference_catches_what_it_should():
    # The reference is not a rubber stamp: an edit it builds itself is refused.
    c = next(c for c in CASES if c["name"] == "chain_rotation_mid_chain")
    ch = ref.Chain(c["keyring"], c["scope"])
    entries = [entry(l) for l in c["entries"]]
    entries[2] = dict(entries[2], ts=entries[2]["ts"] + 1)
    with pytest.raises(ref.AuditError) as ei:
        ch.verify_run(entries)
    assert (ei.value.seq, ei.value.reason) == (3, "MAC mismatch")
