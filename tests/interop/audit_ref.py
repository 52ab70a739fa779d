"""Independent reference implementation of the audit chain (DESIGN §5, docs/audit.md) on the
Python standard library (hmac, hashlib, json) and pyca/cryptography's HKDF.

Written from docs/audit.md only, to check the Rust core from the outside:

    K_kid  = HKDF-SHA256(salt="keycustody/v1", IKM=root_kid, info="keycustody/v1/audit" || 0x00 || scope, 32)
    entry  = {"seq","ts","kid","op","names",["route"],["actor"],["tenant"],["outcome"],"prev","mac"}
             (canonical JSON: this order, optional fields omitted, no whitespace, UTF-8 unescaped)
    mac    = hex(HMAC-SHA256(K_kid, the entry's JSON without "mac")); prev = previous mac, 64 zeros first
    checkpoint = {"v":1,"scope","seq","head","ts","kid","mac"},
    mac    = hex(HMAC-SHA256(K_kid, "keycustody-audit-checkpoint/v1" || 0x00 || its JSON without "mac"))
"""
import base64
import hashlib
import hmac
import json
import re

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

SALT = b"keycustody/v1"
LABEL = b"keycustody/v1/audit"
CP_DOMAIN = b"keycustody-audit-checkpoint/v1\x00"
GENESIS = "0" * 64
ENTRY_FIELDS = ["seq", "ts", "kid", "op", "names", "route", "actor", "tenant", "outcome", "prev", "mac"]
OPTIONAL = {"route", "actor", "tenant", "outcome"}
CP_FIELDS = ["v", "scope", "seq", "head", "ts", "kid", "mac"]
OUTCOMES = {"intent", "ok", "unconfirmed", "refused"}
HEX64 = re.compile(r"[0-9a-f]{64}\Z")
MAX_ENTRY = 64 * 1024
MAX_CHECKPOINT = 8 * 1024
MAX_FIELD = 256
MAX_NAMES = 64
U64 = 2**64
U32 = 2**32


class AuditError(Exception):
    """kind: the core's error kind; seq/reason for AuditBroken; detail for Malformed."""

    def __init__(self, kind, seq=None, reason=None, detail=None):
        super().__init__(f"{kind} {seq} {reason} {detail}")
        self.kind, self.seq, self.reason, self.detail = kind, seq, reason, detail


def broken(seq, reason):
    return AuditError("AuditBroken", seq=seq, reason=reason)


def canonical(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def parse_keyring(text):
    """{kid: root bytes} of the usable (active or decrypt-only) keys of a keyring's text form."""
    j = json.loads(text)
    out = {}
    for k in j["keys"]:
        if k["state"] in ("active", "decrypt-only"):
            s = k["secret"]
            out[k["kid"]] = base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
    return out, j["primary"]


def audit_key(root, scope):
    if not 1 <= len(scope.encode()) <= 1024:
        raise AuditError("InvalidOwner")
    info = LABEL + b"\x00" + scope.encode("utf-8")
    return HKDF(hashes.SHA256(), 32, salt=SALT, info=info).derive(root)


def _is_u(v, bound):
    return type(v) is int and 0 <= v < bound


def parse_entry(text):
    """An entry (dict) from its canonical text (bytes), or Malformed(AuditEntry)."""
    if len(text) > MAX_ENTRY:
        raise AuditError("TooLarge")
    bad = AuditError("Malformed", detail="AuditEntry")
    try:
        j = json.loads(text.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise bad from None
    if not isinstance(j, dict) or any(k not in ENTRY_FIELDS for k in j):
        raise bad
    for k in ENTRY_FIELDS:
        if k not in j and k not in OPTIONAL:
            raise bad
    if not (_is_u(j["seq"], U64) and j["seq"] >= 1 and _is_u(j["ts"], U64) and _is_u(j["kid"], U32)):
        raise bad
    if not isinstance(j["op"], str) or not isinstance(j["names"], list):
        raise bad
    if not all(isinstance(n, str) for n in j["names"]):
        raise bad
    for k in ("route", "actor", "tenant", "outcome"):
        if k in j and not isinstance(j[k], str):
            raise bad
    if "outcome" in j and j["outcome"] not in OUTCOMES:
        raise bad
    if not isinstance(j["prev"], str) or not HEX64.match(j["prev"]):
        raise bad
    if not isinstance(j["mac"], str) or not HEX64.match(j["mac"]):
        raise bad
    if entry_text(j) != text:
        raise bad
    return j


def ordered(e, with_mac):
    out = {}
    for k in ENTRY_FIELDS:
        if k == "mac" and not with_mac:
            continue
        if k in e and e[k] is not None:
            out[k] = e[k]
    return out


def entry_text(e):
    return canonical(ordered(e, True))


def entry_mac(keys, e, pos):
    if e["kid"] not in keys:
        raise broken(pos, "entry names a key id the keyring cannot use")
    return hmac.new(keys[e["kid"]], canonical(ordered(e, False)), hashlib.sha256).hexdigest()


class Chain:
    def __init__(self, keyring_text, scope):
        roots, self.primary = parse_keyring(keyring_text)
        self.scope = scope
        self.keys = {kid: audit_key(root, scope) for kid, root in roots.items()}

    def check_mac(self, e, pos):
        if not hmac.compare_digest(entry_mac(self.keys, e, pos), e["mac"]):
            raise broken(pos, "MAC mismatch")

    def verify_entry(self, e):
        self.check_mac(e, e["seq"])

    def next(self, prev, event, ts):
        check_event(event)
        if prev is None:
            seq, prev_mac = 1, GENESIS
        else:
            self.verify_entry(prev)
            seq, prev_mac = prev["seq"] + 1, prev["mac"]
        e = {"seq": seq, "ts": ts, "kid": self.primary, "op": event["op"], "names": list(event["names"])}
        for k in ("route", "actor", "tenant", "outcome"):
            if event.get(k) is not None:
                e[k] = event[k]
        e["prev"] = prev_mac
        e["mac"] = entry_mac(self.keys, e, seq)
        return e

    def verify_run(self, entries, after=None):
        if after is None:
            last, head = 0, GENESIS
        else:
            self.verify_entry(after)
            last, head = after["seq"], after["mac"]
        first = 0
        for i, e in enumerate(entries):
            want = last + 1
            self.check_mac(e, want)
            if e["seq"] != want:
                raise broken(want, "sequence gap")
            if e["prev"] != head:
                raise broken(want, "prev does not link")
            if i == 0:
                first = e["seq"]
            last, head = e["seq"], e["mac"]
        return {"entries": len(entries), "first_seq": first, "last_seq": last, "head_mac": head}

    def checkpoint(self, head, ts):
        if head is None:
            seq, mac = 0, GENESIS
        else:
            self.verify_entry(head)
            seq, mac = head["seq"], head["mac"]
        cp = {"v": 1, "scope": self.scope, "seq": seq, "head": mac, "ts": ts, "kid": self.primary}
        cp["mac"] = self.checkpoint_mac(cp, seq)
        return canonical(cp).decode("utf-8")

    def checkpoint_mac(self, cp, pos):
        if cp["kid"] not in self.keys:
            raise broken(pos, "checkpoint names a key id the keyring cannot use")
        body = canonical({k: cp[k] for k in CP_FIELDS if k != "mac"})
        return hmac.new(self.keys[cp["kid"]], CP_DOMAIN + body, hashlib.sha256).hexdigest()

    def verify_checkpoint(self, cp):
        if cp["scope"] != self.scope:
            raise broken(cp["seq"], "checkpoint is for another scope")
        if not hmac.compare_digest(self.checkpoint_mac(cp, cp["seq"]), cp["mac"]):
            raise broken(cp["seq"], "checkpoint MAC mismatch")

    def check_against(self, cp, report, entry_at):
        self.verify_checkpoint(cp)
        if cp["seq"] == 0:
            return
        if report["last_seq"] == 0:
            raise broken(1, "log is empty but the checkpoint is not (erased)")
        if report["last_seq"] < cp["seq"]:
            raise broken(report["last_seq"] + 1, "log is shorter than the checkpoint (truncated or rolled back)")
        if entry_at is not None:
            assert entry_at["seq"] == cp["seq"]
            self.verify_entry(entry_at)
            mac = entry_at["mac"]
        else:
            assert report["last_seq"] == cp["seq"]
            mac = report["head_mac"]
        if mac != cp["head"]:
            raise broken(cp["seq"], "diverges from checkpoint")


def parse_checkpoint(text):
    if len(text.encode()) > MAX_CHECKPOINT:
        raise AuditError("TooLarge")
    text = text.strip(" \t\r\n\f")
    bad = AuditError("Malformed", detail="AuditCheckpoint")
    try:
        j = json.loads(text)
    except ValueError:
        raise bad from None
    if not isinstance(j, dict) or list(j) != CP_FIELDS:
        raise bad
    if j["v"] != 1 or type(j["v"]) is not int:
        raise bad
    if not isinstance(j["scope"], str) or not 1 <= len(j["scope"].encode()) <= 1024:
        raise bad
    if not (_is_u(j["seq"], U64) and _is_u(j["ts"], U64) and _is_u(j["kid"], U32)):
        raise bad
    for k in ("head", "mac"):
        if not isinstance(j[k], str) or not HEX64.match(j[k]):
            raise bad
    if j["seq"] == 0 and j["head"] != GENESIS:
        raise bad
    if canonical(j).decode("utf-8") != text:
        raise bad
    return j


def check_event(ev):
    def field(s):
        if not isinstance(s, str) or not 1 <= len(s.encode()) <= MAX_FIELD:
            raise AuditError("InvalidArgument")
        if any(c in ("\x7f",) or ord(c) < 0x20 or 0x80 <= ord(c) <= 0x9F for c in s):
            raise AuditError("InvalidArgument")

    field(ev["op"])
    if len(ev["names"]) > MAX_NAMES:
        raise AuditError("InvalidArgument")
    for n in ev["names"]:
        field(n)
    for k in ("route", "actor", "tenant"):
        if ev.get(k) is not None:
            field(ev[k])
