"""The exception classes of keycustody, one per kind of ``keycustody::Error``.

Every exception carries ``kind`` (the core error kind, as in the test vectors' ``expect``
field, e.g. ``"DecryptFailed"``) and ``code`` (a stable code, e.g. ``"KC_DECRYPT_FAILED"``).
Messages are fixed texts: they never contain input bytes or key material.
The native module raises them through a single mapping function (src/errors.rs).
"""

from __future__ import annotations

from typing import Optional

__all__ = [
    "Error",
    "DecryptError",
    "MalformedError",
    "UnknownKeyError",
    "KeyRetiredError",
    "PrimaryKeyError",
    "InvalidArgumentError",
    "InvalidOwnerError",
    "TooLargeError",
    "InsecurePermissionsError",
    "MissingEnvVarError",
    "IoError",
    "RandomUnavailableError",
    "VerificationError",
    "SignatureError",
    "TimestampError",
    "ExpiredError",
    "NotYetValidError",
    "ReplayError",
    "LockedError",
    "ClaimMismatchError",
]


class Error(Exception):
    """Base class of every keycustody error."""

    #: The core error kind, e.g. ``"DecryptFailed"``.
    kind: str = "Error"
    #: A stable code, e.g. ``"KC_DECRYPT_FAILED"``.
    code: str = "KC_ERROR"
    #: The key id involved (UnknownKey, KeyRetired, PrimaryKey), else None.
    kid: Optional[int] = None
    #: The size limit in bytes (TooLarge), else None.
    limit: Optional[int] = None
    #: The claim that did not match (ClaimMismatch, e.g. ``"aud"``), else None.
    claim: Optional[str] = None
    #: Core's fixed text naming the argument (InvalidArgument), else None.
    argument: Optional[str] = None
    #: Which part of the input was malformed (Malformed, e.g. ``"EnvelopePrefix"``), else None.
    malformed_kind: Optional[str] = None
    #: The environment variable that is not set (MissingEnvVar), else None.
    env_var: Optional[str] = None
    #: The I/O error kind (Io, e.g. ``"NotFound"``), else None.
    io_kind: Optional[str] = None


class DecryptError(Error):
    """Wrong owner, wrong context, wrong key, or tampering: deliberately one error."""

    kind = "DecryptFailed"
    code = "KC_DECRYPT_FAILED"


class MalformedError(Error, ValueError):
    """The input is not in the expected format; ``detail`` says which part."""

    kind = "Malformed"
    code = "KC_MALFORMED"


class UnknownKeyError(Error):
    """The envelope or token names a key id the keyring does not hold (``kid``)."""

    kind = "UnknownKey"
    code = "KC_UNKNOWN_KEY"


class KeyRetiredError(Error):
    """The key id exists but is retired (``kid``)."""

    kind = "KeyRetired"
    code = "KC_KEY_RETIRED"


class PrimaryKeyError(Error):
    """The operation is refused for the primary key (``kid``), e.g. retiring it."""

    kind = "PrimaryKey"
    code = "KC_PRIMARY_KEY"


class InvalidArgumentError(Error, ValueError):
    """An argument is out of range; the message names the argument."""

    kind = "InvalidArgument"
    code = "KC_INVALID_ARGUMENT"


class InvalidOwnerError(InvalidArgumentError):
    """The owner is empty or longer than 1024 bytes."""

    kind = "InvalidOwner"
    code = "KC_INVALID_OWNER"


class TooLargeError(InvalidArgumentError):
    """The input exceeds a size limit (``limit``, in bytes)."""

    kind = "TooLarge"
    code = "KC_TOO_LARGE"


class InsecurePermissionsError(Error, PermissionError):
    """A key file is accessible by group or others, or owned by another user."""

    kind = "InsecurePermissions"
    code = "KC_INSECURE_PERMISSIONS"


class MissingEnvVarError(Error, LookupError):
    """The environment variable is not set (the message names it)."""

    kind = "MissingEnvVar"
    code = "KC_MISSING_ENV_VAR"


class IoError(Error, OSError):
    """An I/O operation failed; ``detail`` is the I/O error kind (e.g. ``"NotFound"``)."""

    kind = "Io"
    code = "KC_IO"


class RandomUnavailableError(Error):
    """The operating system's random number generator failed."""

    kind = "RandomUnavailable"
    code = "KC_RANDOM_UNAVAILABLE"


class VerificationError(Error):
    """Base class of the failures of a signature, token or code check."""


class SignatureError(VerificationError):
    """A signature, MAC or token did not verify."""

    kind = "SignatureInvalid"
    code = "KC_SIGNATURE_INVALID"


class TimestampError(VerificationError):
    """A timestamp is outside the allowed window."""

    kind = "TimestampOutOfTolerance"
    code = "KC_TIMESTAMP_OUT_OF_TOLERANCE"


class ExpiredError(VerificationError):
    """A token or code has expired."""

    kind = "Expired"
    code = "KC_EXPIRED"


class NotYetValidError(VerificationError):
    """A token is not yet valid (``nbf`` in the future)."""

    kind = "NotYetValid"
    code = "KC_NOT_YET_VALID"


class ReplayError(VerificationError):
    """A token, event or code was already used."""

    kind = "Replayed"
    code = "KC_REPLAYED"


class LockedError(VerificationError):
    """Too many failed attempts: the code is locked."""

    kind = "Locked"
    code = "KC_LOCKED"


class ClaimMismatchError(VerificationError):
    """A claim (audience, issuer, ...) did not match; ``claim`` names it."""

    kind = "ClaimMismatch"
    code = "KC_CLAIM_MISMATCH"


# Show the public module in tracebacks and reprs (``keycustody.DecryptError``); pickling
# finds the classes there too.
for _name in __all__:
    globals()[_name].__module__ = "keycustody"
del _name
