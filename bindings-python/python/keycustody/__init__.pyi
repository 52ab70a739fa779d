"""Type stubs of keycustody. Every name here exists at runtime and vice versa (tests/test_stubs.py)."""

import os
from typing import Any, Dict, List, Mapping, Optional, Tuple, Union, final

from ._errors import (
    ClaimMismatchError as ClaimMismatchError,
    ConflictError as ConflictError,
    KekUnavailableError as KekUnavailableError,
    TenantExistsError as TenantExistsError,
    AuditBrokenError as AuditBrokenError,
    TenantShreddedError as TenantShreddedError,
    UnknownTenantError as UnknownTenantError,
    DecryptError as DecryptError,
    Error as Error,
    ExpiredError as ExpiredError,
    InsecurePermissionsError as InsecurePermissionsError,
    InvalidArgumentError as InvalidArgumentError,
    InvalidOwnerError as InvalidOwnerError,
    IoError as IoError,
    KeyRetiredError as KeyRetiredError,
    LockedError as LockedError,
    MalformedError as MalformedError,
    MissingEnvVarError as MissingEnvVarError,
    NotYetValidError as NotYetValidError,
    PrimaryKeyError as PrimaryKeyError,
    RandomUnavailableError as RandomUnavailableError,
    ReplayError as ReplayError,
    SignatureError as SignatureError,
    TimestampError as TimestampError,
    TooLargeError as TooLargeError,
    UnknownKeyError as UnknownKeyError,
    VerificationError as VerificationError,
)

#: Bytes given as ``bytes``, ``bytearray`` or ``str`` (taken as its UTF-8 bytes).
_Data = Union[bytes, bytearray, str]

__all__ = [
    "__version__",
    "MAX_PLAINTEXT",
    # keyring and envelopes
    "Keyring",
    "KeyInfo",
    "EnvelopeInfo",
    "inspect",
    "inspect_binary",
    # API keys, tokens, comparison
    "ApiKey",
    "GeneratedApiKey",
    "generate_api_key",
    "parse_api_key",
    "hash_api_key",
    "verify_api_key",
    "random_token",
    "random_base62",
    "random_string",
    "invite_code",
    "constant_time_equal",
    # webhooks
    "verify_stripe_signature",
    "sign_stripe_payload",
    "verify_standard_webhook",
    "sign_standard_webhook",
    "generate_standard_webhook_secret",
    "verify_telegram_secret",
    "ReplayGuard",
    # the audit chain (pure: the application stores the entries)
    "AuditChain",
    "AuditEntry",
    "AuditCheckpoint",
    "AuditReport",
    # one-time codes and TOTP
    "IssuedCode",
    "CodeCheck",
    "generate_totp_secret",
    "totp_uri",
    "totp_at",
    "totp_raw_at",
    "totp_step",
    "verify_totp_at",
    # browser-direct delivery (HPKE)
    "DeliveryKeypair",
    "generate_delivery_keypair",
    "derive_delivery_keypair",
    "delivery_public_key",
    "delivery_key_fingerprint",
    "seal_for_delivery",
    "open_delivery",
    # custody
    "WrappedKeyring",
    "PendingWrap",
    "TenantKeyringCache",
    "wrap_with_passphrase",
    "is_wrapped_keyring",
    # text
    "scrub",
    "validate_slug",
    "validate_email",
    # legacy import
    "decrypt_legacy_pbkdf2_gcm",
    "decrypt_openssl_enc",
    # errors (the order of _errors.__all__: keycustody/_errors.py)
    "Error",
    "VerificationError",
    "DecryptError",
    "MalformedError",
    "UnknownKeyError",
    "KeyRetiredError",
    "PrimaryKeyError",
    "InvalidOwnerError",
    "InvalidArgumentError",
    "TooLargeError",
    "InsecurePermissionsError",
    "MissingEnvVarError",
    "IoError",
    "RandomUnavailableError",
    "SignatureError",
    "TimestampError",
    "ExpiredError",
    "ReplayError",
    "LockedError",
    "NotYetValidError",
    "ClaimMismatchError",
    "KekUnavailableError",
    "TenantShreddedError",
    "UnknownTenantError",
    "ConflictError",
    "TenantExistsError",
    "AuditBrokenError",
]

__version__: str
#: The largest plaintext a kc1 envelope holds (64 MiB).
MAX_PLAINTEXT: int

@final
class KeyInfo:
    """A key without its secret: id, state and public fingerprint."""

    @property
    def kid(self) -> int: ...
    @property
    def state(self) -> str:
        """``"active"``, ``"decrypt-only"`` or ``"retired"``."""
    @property
    def fingerprint(self) -> str:
        """16 hex characters, safe to show and log; empty for a retired key (its secret is gone)."""

@final
class EnvelopeInfo:
    """What the header of a kc1 envelope says (no key needed)."""

    @property
    def version(self) -> int: ...
    @property
    def kid(self) -> int: ...
    @property
    def plaintext_len(self) -> int: ...

@final
class Keyring:
    """Root keys: one active primary, any number of decrypt-only and retired keys.

    Thread-safe: share one instance across threads. ``repr()`` shows key ids and states only.
    """

    @staticmethod
    def generate() -> Keyring:
        """A new keyring with one random 32-byte key, kid 1, active."""
    @staticmethod
    def parse(text: str) -> Keyring:
        """Parses the JSON text form. Raises MalformedError, TooLargeError."""
    @staticmethod
    def from_env(var: str = "KEYCUSTODY_KEYRING") -> Keyring:
        """Reads the text form from an environment variable. Raises MissingEnvVarError, MalformedError."""
    @staticmethod
    def from_file(path: Union[str, "os.PathLike[str]"]) -> Keyring:
        """Reads the text form from a 0600/0400 file. Raises InsecurePermissionsError, IoError, MalformedError."""
    @staticmethod
    def from_secret(secret: _Data, kid: int = 1) -> Keyring:
        """Adopts an existing secret (its bytes exactly as given, at least 32) as the only key."""
    def export(self) -> str:
        """The JSON text form, with every secret: store it like a private key."""
    def add_key(self) -> int:
        """Adds a random key as decrypt-only; returns its kid. Roll it out, then promote()."""
    def add_key_with_secret(self, secret: _Data) -> int:
        """Adds the given secret (32 to 1024 bytes) as a decrypt-only key; returns its kid."""
    def promote(self, kid: int) -> None:
        """Makes kid the primary; the old primary becomes decrypt-only. Raises UnknownKeyError, KeyRetiredError."""
    def rotate(self) -> int:
        """add_key() then promote(), for a single instance; returns the new kid."""
    def retire(self, kid: int) -> None:
        """Retires kid (its secret is dropped). Raises PrimaryKeyError, UnknownKeyError."""
    def remove(self, kid: int) -> None:
        """Removes kid's secret, leaving a retired tombstone (kids are never reused). Raises PrimaryKeyError, UnknownKeyError."""
    @property
    def primary_kid(self) -> int:
        """The kid of the active key."""
    def kids(self) -> List[KeyInfo]:
        """Every key with its state and fingerprint, in kid order."""
    def state_of(self, kid: int) -> str:
        """The state of one key. Raises UnknownKeyError."""
    def seal(self, owner: str, plaintext: _Data, context: _Data = b"") -> str:
        """Seals plaintext for owner and context under the primary key: a ``"kc1."`` string."""
    def seal_binary(self, owner: str, plaintext: _Data, context: _Data = b"") -> bytes:
        """seal() returning the binary form."""
    def open(self, owner: str, envelope: str, context: _Data = b"") -> bytes:
        """Opens an envelope. Raises DecryptError (wrong owner, context or key, or tampering),
        MalformedError, UnknownKeyError, KeyRetiredError, InvalidOwnerError."""
    def open_binary(self, owner: str, envelope: Union[bytes, bytearray], context: _Data = b"") -> bytes:
        """open() for the binary form."""
    def open_text(self, owner: str, envelope: str, context: _Data = b"") -> str:
        """open() requiring UTF-8 plaintext (else MalformedError)."""
    def needs_rewrap(self, envelope: str) -> bool:
        """Whether the envelope's kid is not the primary (reads the header only)."""
    def rewrap(self, owner: str, envelope: str, context: _Data = b"") -> str:
        """The envelope sealed under the primary key (the same string if it already is)."""
    def derive_key(self, purpose: str, owner: str, length: int = 32) -> bytes:
        """HKDF-Expand(PRK_primary, "keycustody/v1/custom/<purpose>" || 0x00 || owner, length)."""
    def pseudonymize(self, value: str) -> str:
        """A stable pseudonym (hex HMAC-SHA256) of an IP, email, ...; changes when the primary rotates."""
    def pseudonymize_for(self, tenant: str, value: str) -> str:
        """pseudonymize() under a per-tenant key: pseudonyms cannot be joined across tenants."""
    def sign_jwt(
        self, tenant: str, claims: Union[Mapping[str, Any], str], ttl_seconds: int, now: Optional[int] = None
    ) -> str:
        """An HS256 JWT for tenant (key derived per tenant, header kid = primary kid), adding
        iat and exp. claims: a dict, or JSON text kept byte for byte. Raises InvalidArgumentError
        when claims already set exp or iat."""
    def verify_jwt(
        self,
        tenant: str,
        token: str,
        audience: Optional[str] = None,
        issuer: Optional[str] = None,
        leeway: int = 0,
        now: Optional[int] = None,
    ) -> Dict[str, Any]:
        """Verifies a token of tenant and returns its claims. alg is pinned to HS256.
        Raises SignatureError, ExpiredError, NotYetValidError, ClaimMismatchError (``claim``),
        MalformedError, UnknownKeyError, KeyRetiredError."""
    def jwt_secret(self, tenant: str) -> Tuple[int, bytes]:
        """(kid, HS256 secret) of tenant under the primary key, for a service using a stock JWT library."""
    def issue_code(self, subject: str, now: Optional[int] = None) -> IssuedCode:
        """A 6-digit one-time code for subject: valid 15 minutes, single use, at most 5 attempts."""
    def verify_code(self, subject: str, code: str, record: str, now: Optional[int] = None) -> CodeCheck:
        """Checks code against the stored record; write ``check.record`` back when ``check.changed``."""
    def seal_keyring(self, tenant: str, keyring: Keyring) -> str:
        """Seals a tenant keyring under this (platform) keyring: a kc1 envelope with the fixed
        context ``keycustody/v1/keyring``. Raises InvalidOwnerError."""
    def open_keyring(self, tenant: str, envelope: str) -> Keyring:
        """Opens a tenant keyring sealed by seal_keyring. Raises DecryptError (wrong tenant,
        wrong platform key, tampering), MalformedError, UnknownKeyError, KeyRetiredError."""

@final
class GeneratedApiKey:
    """A new API key: show ``key`` once, store ``hash``, display ``hint``. repr() shows the hint only."""

    @property
    def key(self) -> str: ...
    @property
    def hash(self) -> str: ...
    @property
    def hint(self) -> str: ...

@final
class ApiKey:
    """A parsed API key (prefix, charset and checksum checked). repr() shows the hint only."""

    @property
    def key(self) -> str: ...
    @property
    def prefix(self) -> str: ...
    @property
    def hint(self) -> str: ...
    @property
    def hash(self) -> str: ...

@final
class IssuedCode:
    """A new one-time code: send ``code``, store ``record``. repr() hides the code."""

    @property
    def code(self) -> str: ...
    @property
    def record(self) -> str: ...
    @property
    def expires_at(self) -> int: ...

@final
class CodeCheck:
    """The outcome of Keyring.verify_code()."""

    @property
    def status(self) -> str:
        """``"valid"``, ``"wrong"``, ``"expired"``, ``"locked"`` or ``"used"``."""
    @property
    def ok(self) -> bool: ...
    @property
    def attempts_left(self) -> int: ...
    @property
    def record(self) -> str: ...
    @property
    def changed(self) -> bool: ...
    def raise_for_status(self) -> None:
        """None when valid; else SignatureError (wrong), ExpiredError, LockedError, ReplayError (used)."""

@final
class DeliveryKeypair:
    """An HPKE delivery keypair. repr() shows the public key only."""

    @property
    def private_key(self) -> str:
        """``kcsk1.<base64url>``: keep it on the receiving machine."""
    @property
    def public_key(self) -> str:
        """``kcpk1.<base64url>``: publish it."""

def inspect(envelope: str) -> EnvelopeInfo:
    """Reads a kc1 envelope's header. Raises MalformedError."""

def inspect_binary(envelope: Union[bytes, bytearray]) -> EnvelopeInfo:
    """inspect() for the binary form."""

def constant_time_equal(a: _Data, b: _Data) -> bool:
    """Compares in constant time; a length mismatch is False."""

def random_token(nbytes: int = 32) -> str:
    """nbytes random bytes as lowercase hex."""

def random_base62(length: int = 32) -> str:
    """length uniform characters over 0-9A-Za-z."""

def random_string(alphabet: str, length: int) -> str:
    """length characters (1 to 1024) drawn uniformly from alphabet (2 to 128 distinct ASCII
    symbols) by rejection sampling. Raises InvalidArgumentError."""

def invite_code(length: int) -> str:
    """length uniform characters over ABCDEFGHJKLMNPQRSTUVWXYZ23456789."""

def generate_api_key(prefix: str) -> GeneratedApiKey:
    """A new ``<prefix>_<30 base62><6 base62 checksum>`` key. Raises MalformedError for a bad prefix."""

def parse_api_key(key: str) -> ApiKey:
    """Parses a key, rejecting typos by checksum. Raises MalformedError."""

def hash_api_key(key: str) -> str:
    """The stored form: lowercase SHA-256 hex of the key."""

def verify_api_key(key: str, stored_hash: str) -> bool:
    """Whether key hashes to stored_hash (constant time). Raises MalformedError."""

# ---- webhooks ---------------------------------------------------------------------------

def verify_stripe_signature(
    payload: _Data, header: str, secret: str, tolerance: int = 300, now: Optional[int] = None
) -> int:
    """Verifies a ``Stripe-Signature`` header over the raw body; returns its timestamp.
    ``now`` defaults to the wall clock. Raises SignatureError, TimestampError, MalformedError."""

def sign_stripe_payload(payload: _Data, secret: str, timestamp: int) -> str:
    """The ``Stripe-Signature`` header value ``t=<timestamp>,v1=<hex>`` for payload."""

def verify_standard_webhook(
    payload: _Data,
    headers: Mapping[str, str],
    secret: str,
    tolerance: int = 300,
    now: Optional[int] = None,
) -> int:
    """Verifies a Standard Webhooks message (secret ``whsec_<base64>``); returns its timestamp.
    headers: the request's header mapping as it comes (a dict, Starlette's ``Headers``, ...);
    ``webhook-id``, ``webhook-timestamp`` and ``webhook-signature`` are looked up
    case-insensitively. Raises MalformedError (``malformed_kind`` ``WebhookHeaderMissing`` or
    ``WebhookHeaderRepeated`` for a missing or repeated one), SignatureError, TimestampError;
    TypeError when headers is not a mapping of str to str."""

def sign_standard_webhook(payload: _Data, msg_id: str, timestamp: int, secret: str) -> str:
    """The ``webhook-signature`` header value ``v1,<base64>``."""

def generate_standard_webhook_secret() -> str:
    """A fresh ``whsec_`` secret (32 random bytes)."""

def verify_telegram_secret(header: str, expected: str) -> None:
    """Checks ``X-Telegram-Bot-Api-Secret-Token`` in constant time. Raises SignatureError."""

@final
class ReplayGuard:
    """Accepts each event id once until it expires; bounded, in memory, thread-safe.
    Full of unexpired ids, it fails closed (InvalidArgumentError)."""

    def __new__(cls, capacity: int = 100000, ttl_seconds: int = 600) -> ReplayGuard: ...
    def check_and_record(self, event_id: str, now: Optional[int] = None) -> None:
        """Records event_id, or raises ReplayError if it was seen and has not expired."""
    @property
    def capacity(self) -> int: ...
    def __len__(self) -> int: ...

# ---- custody: wrapped keyrings, tenant keyring cache (DESIGN §7) ----------------------

@final
class WrappedKeyring:
    """A keyring wrapped under a key-encryption key (AWS KMS, PKCS#11, a passphrase or your own
    KEK). Unwrap ``wrapped_dek`` with your KMS SDK (``encryption_context`` for AWS KMS,
    ``header`` as AAD elsewhere), then open_with_dek."""

    @staticmethod
    def parse(text: str) -> WrappedKeyring:
        """Parses the text form. Raises MalformedError (``malformed_kind`` WrappedKeyring,
        WrappedKeyringVersion, KekType), TooLargeError, InvalidOwnerError, InvalidArgumentError."""
    def to_text(self) -> str:
        """The text form (field order as in the specification)."""
    @property
    def kek_type(self) -> str: ...
    @property
    def kek_key(self) -> str: ...
    @property
    def owner(self) -> str: ...
    @property
    def wrapped_dek(self) -> bytes: ...
    @property
    def header(self) -> bytes: ...
    @property
    def encryption_context(self) -> Dict[str, str]: ...
    def expect_owner(self, expected: str) -> None:
        """Raises DecryptError unless the owner is expected (check the row's tenant before the KEK)."""
    def open_with_dek(self, dek: Union[bytes, bytearray]) -> Keyring:
        """Opens the keyring with the DEK your KEK unwrapped. Raises DecryptError."""
    def open_with_passphrase(self, passphrase: _Data) -> Keyring:
        """Opens a passphrase-wrapped keyring (Argon2id; releases the GIL). Raises DecryptError,
        MalformedError (KekType) for another KEK type, TooLargeError."""

@final
class PendingWrap:
    """The first step of wrapping a keyring under any KEK: encrypt ``dek`` with your KEK, then
    finish(wrapped_dek). Every member raises InvalidArgumentError after finish."""

    def __new__(cls, keyring: Keyring, kek_type: str, kek_key: str, owner: str) -> PendingWrap: ...
    @property
    def dek(self) -> bytes: ...
    @property
    def header(self) -> bytes: ...
    @property
    def encryption_context(self) -> Dict[str, str]: ...
    @property
    def kek_type(self) -> str: ...
    @property
    def kek_key(self) -> str: ...
    @property
    def owner(self) -> str: ...
    def finish(self, wrapped_dek: Union[bytes, bytearray]) -> WrappedKeyring:
        """The wrapped keyring, given your KEK's encryption of dek (1 to 4096 bytes)."""

def wrap_with_passphrase(
    keyring: Keyring, passphrase: _Data, owner: str, m_kib: int = 65536, t: int = 3, p: int = 1
) -> WrappedKeyring:
    """Wraps keyring under a passphrase (Argon2id, random salt; releases the GIL). Raises
    InvalidArgumentError (empty passphrase, parameters out of bounds), TooLargeError, InvalidOwnerError."""

def is_wrapped_keyring(text: str) -> bool:
    """Whether text looks like a wrapped keyring rather than a plain keyring (a sniff, not a parse)."""

@final
class TenantKeyringCache:
    """A bounded cache of unwrapped tenant keyrings (LRU + TTL, wiped on eviction); ``now`` in
    seconds, default the Unix time. Thread-safe."""

    def __new__(cls, capacity: int = 10000, ttl_secs: int = 300) -> TenantKeyringCache: ...
    def get(self, tenant: str, now: Optional[int] = None) -> Optional[Keyring]: ...
    def insert(self, tenant: str, keyring: Keyring, now: Optional[int] = None) -> Keyring: ...
    def invalidate(self, tenant: str) -> None: ...
    def clear(self) -> None: ...
    @property
    def capacity(self) -> int: ...
    @property
    def ttl(self) -> int: ...
    def __len__(self) -> int: ...

# ---- text -------------------------------------------------------------------------------

def scrub(text: str) -> str:
    """Replaces known secret shapes (LLM provider keys, GitHub/Stripe/Slack/Telegram tokens,
    JWTs, ``Authorization:`` values, PEM private keys, keycustody API keys) with
    ``[REDACTED:<kind>]``."""

def validate_slug(s: str) -> None:
    """3 to 32 characters of ``[a-z0-9-]``, alphanumeric at both ends; else InvalidArgumentError."""

def validate_email(s: str) -> None:
    """``local@domain`` (dot-atom local part, at least two DNS labels); else InvalidArgumentError."""

# ---- legacy import (decrypt-only) -------------------------------------------------------

def decrypt_legacy_pbkdf2_gcm(
    blob: str, password: _Data, iterations: int = 100000, salt_len: int = 16
) -> bytes:
    """Decrypts ``base64(salt || iv12 || ciphertext || tag16)`` (PBKDF2-HMAC-SHA256 + AES-256-GCM).
    Raises DecryptError, MalformedError, InvalidArgumentError. Releases the GIL."""

def decrypt_openssl_enc(data: Union[bytes, bytearray], password: _Data, iterations: int = 100000) -> bytes:
    """Decrypts an ``openssl enc -aes-256-cbc -pbkdf2 -iter N`` file. Releases the GIL."""

# ---- TOTP (RFC 6238) --------------------------------------------------------------------

def generate_totp_secret() -> str:
    """A fresh base32 TOTP secret (20 random bytes)."""

def totp_uri(secret: str, account: str, issuer: str) -> str:
    """The ``otpauth://totp/...`` URI for a QR code (it contains the secret)."""

def totp_at(secret: str, now: Optional[int] = None) -> str:
    """The 6-digit code of a base32 secret at Unix time now (default the wall clock)."""

def totp_raw_at(key: _Data, now: Optional[int] = None, period: int = 30, digits: int = 6, algorithm: str = "SHA1") -> str:
    """General RFC 6238 (raw key; 6 to 8 digits; SHA1, SHA256 or SHA512)."""

def totp_step(now: Optional[int] = None) -> int:
    """floor(now / 30)."""

def verify_totp_at(secret: str, code: str, now: Optional[int] = None, last_used_step: Optional[int] = None) -> int:
    """Accepts the previous, current and next step; returns the matched step (store it and pass
    it back as last_used_step). Raises SignatureError, ReplayError, MalformedError."""

# ---- browser-direct delivery (HPKE, RFC 9180) ---------------------------------------------

def generate_delivery_keypair() -> DeliveryKeypair:
    """A fresh X25519 delivery keypair."""

def derive_delivery_keypair(ikm: _Data) -> DeliveryKeypair:
    """A keypair derived from at least 32 bytes (e.g. Keyring.derive_key("deliver", vm_id))."""

def delivery_public_key(private_key: str) -> str:
    """The ``kcpk1.`` public key of a ``kcsk1.`` private key."""

def delivery_key_fingerprint(public_key: str) -> str:
    """The ``kcfp1.XXXX-XXXX-...`` fingerprint of a ``kcpk1.`` public key: show it on the VM,
    pin it in the browser. Raises MalformedError."""

def seal_for_delivery(
    public_key: str, owner: str, plaintext: _Data, expected_fingerprint: Optional[str] = None
) -> str:
    """Seals plaintext to a ``kcpk1.`` key for owner (the AAD, bound, not authenticated): a
    ``kcd1.`` blob. With expected_fingerprint, a key whose fingerprint differs is refused:
    ClaimMismatchError (claim "delivery key fingerprint"); a malformed pin is MalformedError."""

def open_delivery(private_key: str, owner: str, blob: str) -> bytes:
    """Opens a ``kcd1.`` blob. Raises DecryptError (wrong key, owner or tampering), MalformedError."""

# ---- the audit chain (pure; the application stores the entries) -------------------------

@final
class AuditEntry:
    """One entry of an audit chain (well formed, not verified). Never holds a value: an
    operation, names (secret names, record ids), route, actor, tenant, outcome and time."""

    @staticmethod
    def parse(text: _Data) -> AuditEntry:
        """Parses the canonical JSON text of one entry. Raises MalformedError, TooLargeError."""
    def to_json(self) -> str:
        """The JSON text (one line, byte-identical to what was parsed)."""
    @property
    def seq(self) -> int: ...
    @property
    def ts(self) -> int: ...
    @property
    def kid(self) -> int: ...
    @property
    def op(self) -> str: ...
    @property
    def names(self) -> List[str]: ...
    @property
    def route(self) -> Optional[str]: ...
    @property
    def actor(self) -> Optional[str]: ...
    @property
    def tenant(self) -> Optional[str]: ...
    @property
    def outcome(self) -> Optional[str]:
        """``"intent"``, ``"ok"``, ``"unconfirmed"`` or ``"refused"``."""
    @property
    def prev(self) -> str: ...
    @property
    def mac(self) -> str: ...

@final
class AuditCheckpoint:
    """Off-host evidence of a chain's head (seq, head MAC, time) under the scope's audit key."""

    @staticmethod
    def parse(text: str) -> AuditCheckpoint:
        """Parses the one-line JSON text. Raises MalformedError, TooLargeError."""
    def to_text(self) -> str: ...
    @property
    def scope(self) -> str: ...
    @property
    def seq(self) -> int: ...
    @property
    def head(self) -> str: ...
    @property
    def ts(self) -> int: ...
    @property
    def kid(self) -> int: ...
    @property
    def mac(self) -> str: ...

@final
class AuditReport:
    """What AuditChain.verify_run found in a run that verified."""

    @property
    def entries(self) -> int: ...
    @property
    def first_seq(self) -> int: ...
    @property
    def last_seq(self) -> int: ...
    @property
    def head_mac(self) -> str: ...

@final
class AuditChain:
    """An audit chain of one scope, MACed under Keyring.audit_key(kid, scope). Holds a snapshot
    of the keyring: after a rotation, make a new AuditChain."""

    def __new__(cls, keyring: Keyring, scope: str) -> AuditChain: ...
    @property
    def scope(self) -> str: ...
    def next(self, prev: Optional[AuditEntry], event: Mapping[str, Any], now: Optional[int] = None) -> AuditEntry:
        """The entry after prev (None: the first) recording event (a dict: op, and optionally
        names, route, actor, tenant, outcome) at now (default: the clock).
        Raises InvalidArgumentError (limits, unknown event field), AuditBrokenError (prev)."""
    def verify_entry(self, entry: AuditEntry) -> None:
        """Raises AuditBrokenError."""
    def verify_run(self, entries: List[AuditEntry], after: Optional[AuditEntry] = None) -> AuditReport:
        """Each MAC, seq continuity, prev linkage. Raises AuditBrokenError (``audit_position``)."""
    def checkpoint(self, head: Optional[AuditEntry], now: Optional[int] = None) -> AuditCheckpoint: ...
    def verify_checkpoint(self, checkpoint: AuditCheckpoint) -> None:
        """Raises AuditBrokenError."""
    def check_against(
        self, checkpoint: AuditCheckpoint, report: AuditReport, entry_at_checkpoint: Optional[AuditEntry] = None
    ) -> None:
        """Raises AuditBrokenError (erased, truncated, rolled back, diverging), InvalidArgumentError."""
