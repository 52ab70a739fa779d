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
    kind: str
    #: A stable code, e.g. ``"KC_DECRYPT_FAILED"``.
    code: str
    #: The key id involved (UnknownKey, KeyRetired, PrimaryKey), else None.
    kid: Optional[int]
    #: The size limit in bytes (TooLarge), else None.
    limit: Optional[int]
    #: The claim that did not match (ClaimMismatch, e.g. ``"aud"``), else None.
    claim: Optional[str]
    #: Core's fixed text naming the argument (InvalidArgument), else None.
    argument: Optional[str]
    #: Which part of the input was malformed (Malformed: ``MalformedKind::name()``, e.g. ``"EnvelopePrefix"``), else None.
    malformed_kind: Optional[str]
    #: The environment variable that is not set (MissingEnvVar), else None.
    env_var: Optional[str]
    #: The I/O error kind (Io, e.g. ``"NotFound"``), else None.
    io_kind: Optional[str]

class DecryptError(Error): ...
class MalformedError(Error, ValueError): ...
class UnknownKeyError(Error): ...
class KeyRetiredError(Error): ...
class PrimaryKeyError(Error): ...
class InvalidArgumentError(Error, ValueError): ...
class InvalidOwnerError(InvalidArgumentError): ...
class TooLargeError(InvalidArgumentError): ...
class InsecurePermissionsError(Error, PermissionError): ...
class MissingEnvVarError(Error, LookupError): ...
class IoError(Error, OSError): ...
class RandomUnavailableError(Error): ...
class VerificationError(Error): ...
class SignatureError(VerificationError): ...
class TimestampError(VerificationError): ...
class ExpiredError(VerificationError): ...
class NotYetValidError(VerificationError): ...
class ReplayError(VerificationError): ...
class LockedError(VerificationError): ...
class ClaimMismatchError(VerificationError): ...
