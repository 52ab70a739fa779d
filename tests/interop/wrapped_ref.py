"""Independent reference implementation of wrapped keyrings (DESIGN §7, docs/kc1.md "Wrapped
keyrings") on pyca/cryptography and argon2-cffi.

Written from the specification only, to check the Rust core from the outside. Text form:

    {"version":1,"kek":{"type":T,"key":K},"owner":O,"wrapped_dek":b64u,"nonce":b64u,"ciphertext":b64u}

header = "keycustody/v1/wrapped-keyring" || 0x00 || u32be(len T) || T || u32be(len K) || K
         || u32be(len O) || O
ciphertext = AES-256-GCM(DEK, nonce, keyring text, AAD = header)
passphrase KEK: K = "argon2id$v=19$m=<KiB>,t=<n>,p=<n>$<b64u salt16>",
    KEK = Argon2id(passphrase, salt, 32), wrapped_dek = iv12 || AES-256-GCM(KEK, iv12, DEK, AAD = header)
"""
import base64
import json
import re
import struct

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

LABEL = b"keycustody/v1/wrapped-keyring"
FIELDS = ["version", "kek", "owner", "wrapped_dek", "nonce", "ciphertext"]
KEK_FIELDS = ["type", "key"]
TYPE_RE = re.compile(r"[a-z0-9][a-z0-9-]{0,63}\Z")
B64U_RE = re.compile(r"[A-Za-z0-9_-]*\Z")
KEY_RE = re.compile(r"argon2id\$v=19\$m=([0-9]+),t=([0-9]+),p=([0-9]+)\$([A-Za-z0-9_-]*)\Z")
MAX_TEXT = 2 * 1024 * 1024
MAX_KEY = 2048
MAX_WRAPPED_DEK = 4096
M_MAX, T_MAX, P_MAX = 1024 * 1024, 16, 16


class WrappedError(Exception):
    """kind: the core's error kind name; detail: the malformed kind (Malformed only)."""

    def __init__(self, kind, detail=None):
        super().__init__(kind if detail is None else f"{kind}({detail})")
        self.kind = kind
        self.detail = detail


def malformed(detail="WrappedKeyring"):
    return WrappedError("Malformed", detail)


def b64u(b):
    return base64.urlsafe_b64encode(b).decode().rstrip("=")


def b64u_decode(s):
    """base64url without padding, canonical only (no stray bits, no '=' and no other alphabet)."""
    if not isinstance(s, str) or not B64U_RE.match(s) or len(s) % 4 == 1:
        raise malformed()
    raw = base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
    if b64u(raw) != s:
        raise malformed()
    return raw


def header(kek_type, kek_key, owner):
    out = LABEL + b"\x00"
    for part in (kek_type, kek_key, owner):
        b = part.encode("utf-8")
        out += struct.pack(">I", len(b)) + b
    return out


def _no_duplicates(pairs):
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise malformed()
    return dict(pairs)


def parse_passphrase_key(key):
    """(m, t, p, salt) from the key string; Malformed for its syntax, InvalidArgument for bounds."""
    m = KEY_RE.match(key)
    if not m:
        raise malformed()
    nums = []
    for s in m.groups()[:3]:
        # Decimal, no leading zero, fits an unsigned 32-bit integer.
        if (len(s) > 1 and s[0] == "0") or int(s) > 0xFFFFFFFF:
            raise malformed()
        nums.append(int(s))
    salt = b64u_decode(m.group(4))
    if len(salt) != 16:
        raise malformed()
    mk, t, p = nums
    if not 1 <= p <= P_MAX or not 8 * p <= mk <= M_MAX or not 1 <= t <= T_MAX:
        raise WrappedError("InvalidArgument")
    return mk, t, p, salt


def parse(text):
    """A dict with type, key, owner, wrapped_dek, nonce, ciphertext (bytes for the last three)."""
    if len(text.encode("utf-8")) > MAX_TEXT:
        raise WrappedError("TooLarge")
    try:
        j = json.loads(text, object_pairs_hook=_no_duplicates)
    except WrappedError:
        raise
    except ValueError:
        raise malformed() from None
    if not isinstance(j, dict):
        raise malformed()
    v = j.get("version")
    if not isinstance(v, int) or isinstance(v, bool) or v < 0:
        raise malformed()
    if v != 1:
        raise malformed("WrappedKeyringVersion")
    if sorted(j) != sorted(FIELDS):
        raise malformed()
    kek = j["kek"]
    if not isinstance(kek, dict) or sorted(kek) != sorted(KEK_FIELDS):
        raise malformed()
    if not all(isinstance(x, str) for x in (kek["type"], kek["key"], j["owner"], j["wrapped_dek"], j["nonce"], j["ciphertext"])):
        raise malformed()
    if not TYPE_RE.match(kek["type"]):
        raise malformed("KekType")
    if not 1 <= len(kek["key"].encode()) <= MAX_KEY:
        raise malformed()
    if len(j["owner"].encode()) > 1024:
        raise WrappedError("InvalidOwner")
    wrapped_dek = b64u_decode(j["wrapped_dek"])
    if not 1 <= len(wrapped_dek) <= MAX_WRAPPED_DEK:
        raise malformed()
    nonce = b64u_decode(j["nonce"])
    if len(nonce) != 12:
        raise malformed()
    ciphertext = b64u_decode(j["ciphertext"])
    if len(ciphertext) < 16:
        raise malformed()
    if kek["type"] == "passphrase":
        parse_passphrase_key(kek["key"])
    return {
        "type": kek["type"],
        "key": kek["key"],
        "owner": j["owner"],
        "wrapped_dek": wrapped_dek,
        "nonce": nonce,
        "ciphertext": ciphertext,
    }


def check_keyring_text(text):
    """The keyring text form of DESIGN §2, checked enough to refuse what is not a keyring."""
    try:
        j = json.loads(text)
    except ValueError:
        raise malformed("KeyringJson") from None
    if not isinstance(j, dict) or set(j) != {"version", "primary", "keys"}:
        raise malformed("KeyringJson")
    if j["version"] != 1:
        raise malformed("KeyringVersion")
    return text


def open_dek(w, dek):
    """The keyring text, given the DEK the KEK unwrapped."""
    if len(dek) != 32:
        raise WrappedError("DecryptFailed")
    try:
        plain = AESGCM(dek).decrypt(w["nonce"], w["ciphertext"], header(w["type"], w["key"], w["owner"]))
    except InvalidTag:
        raise WrappedError("DecryptFailed") from None
    try:
        text = plain.decode("utf-8")
    except UnicodeDecodeError:
        raise malformed("Utf8") from None
    return check_keyring_text(text)


def passphrase_kek(passphrase, m, t, p, salt):
    return hash_secret_raw(passphrase, salt, time_cost=t, memory_cost=m, parallelism=p, hash_len=32, type=Type.ID, version=19)


def open_passphrase(w, passphrase):
    if w["type"] != "passphrase":
        raise malformed("KekType")
    m, t, p, salt = parse_passphrase_key(w["key"])
    wd = w["wrapped_dek"]
    if len(wd) != 12 + 32 + 16:
        raise WrappedError("DecryptFailed")
    kek = passphrase_kek(passphrase, m, t, p, salt)
    try:
        dek = AESGCM(kek).decrypt(wd[:12], wd[12:], header(w["type"], w["key"], w["owner"]))
    except InvalidTag:
        raise WrappedError("DecryptFailed") from None
    return open_dek(w, dek)


def to_text(kek_type, kek_key, owner, wrapped_dek, nonce, ciphertext):
    obj = {
        "version": 1,
        "kek": {"type": kek_type, "key": kek_key},
        "owner": owner,
        "wrapped_dek": b64u(wrapped_dek),
        "nonce": b64u(nonce),
        "ciphertext": b64u(ciphertext),
    }
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def wrap_app(keyring_text, kek_type, kek_key, owner, dek, nonce, wrapped_dek):
    """Any KEK the application holds: it wraps `dek` itself (into `wrapped_dek`), bound to header()."""
    ct = AESGCM(dek).encrypt(nonce, keyring_text.encode("utf-8"), header(kek_type, kek_key, owner))
    return to_text(kek_type, kek_key, owner, wrapped_dek, nonce, ct)


def wrap_passphrase(keyring_text, passphrase, owner, m, t, p, salt, dek, nonce, iv):
    key = f"argon2id$v=19$m={m},t={t},p={p}${b64u(salt)}"
    h = header("passphrase", key, owner)
    kek = passphrase_kek(passphrase, m, t, p, salt)
    wrapped_dek = iv + AESGCM(kek).encrypt(iv, dek, h)
    ct = AESGCM(dek).encrypt(nonce, keyring_text.encode("utf-8"), h)
    return to_text("passphrase", key, owner, wrapped_dek, nonce, ct)
