"""The audit chain in Python (core's AuditChain, pure): building entries, verifying runs,
checkpoints, the CLI's existing log format, typed errors naming the seq, never a value."""

import json

import pytest

import keycustody
from keycustody import AuditChain, AuditCheckpoint, AuditEntry, AuditReport

from conftest import REPO, assert_kc_error

T = 1_700_000_000
DATA = REPO / "core" / "tests" / "data"


def ring():
    return keycustody.Keyring.from_secret(b"0123456789abcdef0123456789abcdef", 1)


def ev(i):
    return {"op": "secret.read", "names": [f"OPENAI_KEY_{i}"], "actor": "user-7", "tenant": "acme", "outcome": "ok"}


def build(chain, n, t0=T):
    out = []
    for i in range(n):
        out.append(chain.next(out[-1] if out else None, ev(i), t0 + i))
    return out


def test_build_and_verify_a_run_with_readable_fields():
    chain = AuditChain(ring(), "tenant:acme")
    assert chain.scope == "tenant:acme"
    run = build(chain, 50)
    e = run[9]
    assert (e.seq, e.ts, e.kid, e.op, e.names) == (10, T + 9, 1, "secret.read", ["OPENAI_KEY_9"])
    assert (e.actor, e.tenant, e.outcome, e.route) == ("user-7", "acme", "ok", None)
    assert e.prev == run[8].mac and len(e.mac) == 64
    assert run[0].prev == "0" * 64
    # JSON text round trip, byte for byte, and equal objects.
    text = e.to_json()
    assert AuditEntry.parse(text) == e and AuditEntry.parse(text.encode()).to_json() == text
    assert list(json.loads(text)) == ["seq", "ts", "kid", "op", "names", "actor", "tenant", "outcome", "prev", "mac"]
    rep = chain.verify_run(run)
    assert isinstance(rep, AuditReport)
    assert (rep.entries, rep.first_seq, rep.last_seq, rep.head_mac) == (50, 1, 50, run[-1].mac)
    # A later run verifies after the last verified entry.
    rep2 = chain.verify_run(run[30:], after=run[29])
    assert (rep2.entries, rep2.first_seq, rep2.last_seq) == (20, 31, 50)
    chain.verify_entry(run[0])
    # now defaults to the clock (not asserted: only that it is set).
    assert chain.next(run[-1], {"op": "secret.list"}).ts > 0


def test_a_tampered_removed_or_reordered_entry_is_named_by_seq():
    chain = AuditChain(ring(), "tenant:acme")
    run = build(chain, 20)
    forged = AuditEntry.parse(run[6].to_json().replace("OPENAI_KEY_6", "OPENAI_KEY_X"))
    with pytest.raises(keycustody.AuditBrokenError) as ei:
        chain.verify_run(run[:6] + [forged] + run[7:])
    assert_kc_error(ei, "AuditBroken")
    assert ei.value.audit_position == 7 and "MAC mismatch" in str(ei.value)
    with pytest.raises(keycustody.AuditBrokenError) as ei:
        chain.verify_run(run[:3] + run[4:])
    assert ei.value.audit_position == 4
    with pytest.raises(keycustody.AuditBrokenError) as ei:
        chain.verify_run(run[:5] + [run[6], run[5]] + run[7:])
    assert ei.value.audit_position == 6
    # Another key or another scope: nothing verifies.
    with pytest.raises(keycustody.AuditBrokenError):
        AuditChain(keycustody.Keyring.generate(), "tenant:acme").verify_run(run)
    with pytest.raises(keycustody.AuditBrokenError):
        AuditChain(ring(), "tenant:globex").verify_entry(run[0])
    # The chain refuses to grow on an entry that does not verify.
    with pytest.raises(keycustody.AuditBrokenError):
        chain.next(forged, ev(0), T)


def test_checkpoints_detect_erase_truncate_and_divergence():
    chain = AuditChain(ring(), "tenant:acme")
    run = build(chain, 30)
    cp = chain.checkpoint(run[19], T + 100)
    assert (cp.scope, cp.seq, cp.head, cp.ts, cp.kid) == ("tenant:acme", 20, run[19].mac, T + 100, 1)
    cp2 = AuditCheckpoint.parse(cp.to_text())
    assert cp2 == cp and cp2.mac == cp.mac
    chain.verify_checkpoint(cp2)
    chain.check_against(cp, chain.verify_run(run), run[19])
    chain.check_against(chain.checkpoint(None, T), chain.verify_run([]))
    with pytest.raises(keycustody.AuditBrokenError) as ei:
        chain.check_against(cp, chain.verify_run([]))
    assert ei.value.audit_position == 1 and "erased" in str(ei.value)
    with pytest.raises(keycustody.AuditBrokenError) as ei:
        chain.check_against(cp, chain.verify_run(run[:12]))
    assert ei.value.audit_position == 13
    other = build(chain, 25, T + 1000)  # a different history of the same scope
    with pytest.raises(keycustody.AuditBrokenError) as ei:
        chain.check_against(cp, chain.verify_run(other), other[19])
    assert ei.value.audit_position == 20 and "diverges" in str(ei.value)
    with pytest.raises(keycustody.AuditBrokenError):
        chain.verify_checkpoint(AuditCheckpoint.parse(cp.to_text().replace('"seq":20', '"seq":21')))
    with pytest.raises(keycustody.InvalidArgumentError):
        chain.check_against(cp, chain.verify_run(run))  # the entry at seq 20 is needed


def test_entries_the_cli_wrote_verify_byte_for_byte():
    kr = keycustody.Keyring.parse((DATA / "audit_cli_v0.key").read_text())
    chain = AuditChain(kr, (DATA / "audit_cli_v0.scope").read_text().strip())
    lines = (DATA / "audit_cli_v0.log").read_bytes().splitlines()
    run = [AuditEntry.parse(line) for line in lines]
    assert [e.to_json().encode() for e in run] == lines
    rep = chain.verify_run(run)
    assert rep.entries == len(lines) and {e.kid for e in run} == {1, 2}


@pytest.mark.parametrize(
    "event, kind",
    [
        ({"op": ""}, "InvalidArgument"),
        ({"op": "x\n"}, "InvalidArgument"),
        ({"op": "x" * 257}, "InvalidArgument"),
        ({"op": "x", "names": ["n"] * 65}, "InvalidArgument"),
        ({"op": "x", "tenant": ""}, "InvalidArgument"),
        ({"op": "x", "outcome": "maybe"}, "InvalidArgument"),
        ({"op": "x", "value": "sk-secret"}, "InvalidArgument"),  # no field for a value
        ({"op": "x", "tennant": "acme"}, "InvalidArgument"),  # a misspelt field is not dropped
    ],
)
def test_bad_events_are_typed_errors(event, kind):
    chain = AuditChain(ring(), "s")
    with pytest.raises(keycustody.Error) as ei:
        chain.next(None, event, T)
    assert ei.value.kind == kind, ei.value
    assert "sk-secret" not in str(ei.value) and "acme" not in str(ei.value)


@pytest.mark.parametrize("event", [None, "op", ["op"], {"names": ["a"]}, {"op": 1}, {"op": "x", "names": "a"}])
def test_wrong_event_types_are_type_errors(event):
    with pytest.raises(TypeError):
        AuditChain(ring(), "s").next(None, event, T)


@pytest.mark.parametrize("text", [b"", b"{}", b"not json", b'{"seq":1}', b"\xff"])
def test_malformed_entries_and_checkpoints(text):
    with pytest.raises(keycustody.MalformedError):
        AuditEntry.parse(text)
    if text != b"\xff":
        with pytest.raises(keycustody.MalformedError):
            AuditCheckpoint.parse(text.decode())


def test_empty_scope_is_refused():
    with pytest.raises(keycustody.InvalidArgumentError):
        AuditChain(ring(), "")
