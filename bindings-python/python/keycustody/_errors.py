"""The exception classes of keycustody, one per kind of ``keycustody::Error``.

Every exception carries ``kind`` (the core error kind, as in the test vectors' ``expect``
field, e.g. ``"DecryptFailed"``) and ``code`` (a stable code, e.g. ``"KC_DECRYPT_FAILED"``).
Messages are fixed texts: they never contain input bytes or key material.
The native module raises them through a single mapping function (src/errors.rs).

Which class stands for which kind, and each kind's code, come from one list: the native
module's ``_ERROR_CLASSES`` (src/errors.rs, built from core's ``Error::kind()`` and
``Error::code()``). This module defines the classes (their bases and docs) and takes
``kind`` and ``code`` from that list, and so does ``__all__`` (the package's error names); it
refuses to import when the two disagree.
"""

from __future__ import annotations

from typing import Optional

from ._native import _ERROR_CLASSES

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
    #: The seq where an audit chain breaks (AuditBroken), else None.
    audit_position: Optional[int] = None


class DecryptError(Error):
    """Wrong owner, wrong context, wrong key, or tampering: deliberately one error."""



class MalformedError(Error, ValueError):
    """The input is not in the expected format; ``malformed_kind`` says which part."""



class UnknownKeyError(Error):
    """The envelope or token names a key id the keyring does not hold (``kid``)."""



class KeyRetiredError(Error):
    """The key id exists but is retired (``kid``)."""



class PrimaryKeyError(Error):
    """The operation is refused for the primary key (``kid``), e.g. retiring it."""



class InvalidArgumentError(Error, ValueError):
    """An argument is out of range; the message names the argument."""



class InvalidOwnerError(InvalidArgumentError):
    """The owner is empty or longer than 1024 bytes."""



class TooLargeError(InvalidArgumentError):
    """The input exceeds a size limit (``limit``, in bytes)."""



class InsecurePermissionsError(Error, PermissionError):
    """A key file is accessible by group or others, or owned by another user."""



class MissingEnvVarError(Error, LookupError):
    """The environment variable is not set (the message names it)."""



class IoError(Error, OSError):
    """An I/O operation failed; ``io_kind`` is the I/O error kind (e.g. ``"NotFound"``)."""



class RandomUnavailableError(Error):
    """The operating system's random number generator failed."""



class VerificationError(Error):
    """Base class of the failures of a signature, token or code check."""


class SignatureError(VerificationError):
    """A signature, MAC or token did not verify."""



class TimestampError(VerificationError):
    """A timestamp is outside the allowed window."""



class ExpiredError(VerificationError):
    """A token or code has expired."""



class NotYetValidError(VerificationError):
    """A token is not yet valid (``nbf`` in the future)."""



class ReplayError(VerificationError):
    """A token, event or code was already used."""



class LockedError(VerificationError):
    """Too many failed attempts: the code is locked."""



class ClaimMismatchError(VerificationError):
    """A claim (audience, issuer, ...) did not match; ``claim`` names it."""



class KekUnavailableError(Error):
    """The key-encryption key of a wrapped keyring is unreachable, refusing or not configured (the message names its type)."""



class TenantShreddedError(Error):
    """The tenant's keyring was shredded: its data can no longer be opened."""



class UnknownTenantError(Error, LookupError):
    """The tenant key store holds no keyring for this tenant."""



class ConflictError(Error):
    """A compare-and-swap lost (e.g. two concurrent rotations): nothing was written; reload and retry."""



class TenantExistsError(Error):
    """The tenant already has a keyring."""



class AuditBrokenError(Error):
    """An audit chain or checkpoint does not verify (edited, removed, reordered or inserted
    entries, or a log shorter than, diverging from or older than a checkpoint); the message
    names the seq where the chain breaks and why."""



# Classes that stand for no single kind: the base of all, and the base of the failed checks.
_GROUPS = ("Error", "VerificationError")


def _bind_kinds() -> None:
    """Gives each class its kind and code from the native list; fails on any disagreement
    (a class defined here without an entry, an entry without a class, a duplicate)."""
    names = [name for name, _, _ in _ERROR_CLASSES]
    concrete = [
        n
        for n, v in globals().items()
        if isinstance(v, type) and issubclass(v, Error) and n not in _GROUPS
    ]
    if sorted(names) != sorted(concrete) or len(set(names)) != len(names):
        raise ImportError(
            "keycustody._errors and the native error list disagree: "
            f"{sorted(set(names) ^ set(concrete))}"
        )
    for name, kind, code in _ERROR_CLASSES:
        cls = globals()[name]
        cls.kind = kind
        cls.code = code


_bind_kinds()

# The public names, from the same list (keycustody/__init__.py re-exports exactly these): the
# two groups, then one class per kind in core's `Error::KINDS` order. The stubs (_errors.pyi,
# __init__.pyi) restate them statically for type checkers; tests/test_stubs.py and
# tests/test_errors_list.py hold them to this list.
__all__ = [*_GROUPS, *(name for name, _, _ in _ERROR_CLASSES)]

# Show the public module in tracebacks and reprs (``keycustody.DecryptError``); pickling
# finds the classes there too.
for _name in __all__:
    globals()[_name].__module__ = "keycustody"
del _name
