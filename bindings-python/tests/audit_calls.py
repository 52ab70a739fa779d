"""Garbage specs of the audit chain exports (issue 15 item 2) for test_garbage.py's table
(merged into CALLS / WRONG there)."""

import keycustody as kc

NOW = 1_700_000_000
CHAIN = kc.AuditChain(kc.Keyring.generate(), "tenant:acme")
FIRST = CHAIN.next(None, {"op": "secret.read", "names": ["OPENAI_KEY"], "actor": "u", "tenant": "acme"}, NOW)
SECOND = CHAIN.next(FIRST, {"op": "secret.read"}, NOW)
REPORT = CHAIN.verify_run([FIRST, SECOND])
CP = CHAIN.checkpoint(SECOND, NOW)
EVENT = {"op": "secret.read", "names": ["OPENAI_KEY"]}

S, D, O = "str", "data", "optint"
E, OE, EV, RUN, CPT, REP = "entry", "optentry", "event", "entries", "checkpoint", "report"

AUDIT_CALLS = {
    "AuditChain.next": (CHAIN.next, [("prev", OE, SECOND), ("event", EV, EVENT), ("now", O, NOW)]),
    "AuditChain.verify_entry": (CHAIN.verify_entry, [("entry", E, FIRST)]),
    "AuditChain.verify_run": (CHAIN.verify_run, [("entries", RUN, [FIRST, SECOND]), ("after", OE, None)]),
    "AuditChain.checkpoint": (CHAIN.checkpoint, [("head", OE, SECOND), ("now", O, NOW)]),
    "AuditChain.verify_checkpoint": (CHAIN.verify_checkpoint, [("checkpoint", CPT, CP)]),
    "AuditChain.check_against": (
        CHAIN.check_against,
        [("checkpoint", CPT, CP), ("report", REP, REPORT), ("entry_at_checkpoint", OE, SECOND)],
    ),
    "AuditEntry.parse": (kc.AuditEntry.parse, [("text", D, FIRST.to_json())]),
    "AuditEntry.to_json": (FIRST.to_json, []),
    "AuditCheckpoint.parse": (kc.AuditCheckpoint.parse, [("text", S, CP.to_text())]),
    "AuditCheckpoint.to_text": (CP.to_text, []),
}

AUDIT_WRONG = {
    E: ["{}", b"x", 1, None, {}, object(), CP, REPORT],
    OE: ["{}", b"x", 1, {}, object(), CP, REPORT],
    EV: ["op", b"x", 1, None, ["op"], {"names": ["a"]}, {"op": 1}, {"op": "x", "names": "a"}, {"op": "x", "names": [1]}],
    RUN: [1, None, "x", [1], [FIRST, "x"], object()],
    CPT: [CP.to_text(), 1, None, FIRST, object()],
    REP: [1, None, {}, FIRST, object()],
}
