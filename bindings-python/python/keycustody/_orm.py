"""What the ORM fields (keycustody.sqlalchemy, keycustody.django) share: the errors they raise,
the keyring lookup and the open/seal calls. No cryptography here: every seal and open is the
binding's ``Keyring.seal`` / ``Keyring.open_text`` with owner = the row's owner column and
context = ``"<table>.<column>"``.
"""

from __future__ import annotations

from typing import Any, Callable, Optional, Union

from ._errors import DecryptError, InvalidArgumentError, InvalidOwnerError, MalformedError
from . import Keyring, inspect

__all__ = [
    "OwnerMissingError",
    "PlaintextValueError",
    "RowDecryptError",
    "UnsealedWriteError",
]

KeyringSource = Union[Keyring, Callable[[], Keyring]]


class OwnerMissingError(InvalidOwnerError):
    """The row's owner column is empty or NULL: the value is not sealed and nothing is written."""

    def __init__(self, field: str, owner_field: str, row_id: Any = None) -> None:
        self.field = field
        self.owner_field = owner_field
        self.row_id = row_id
        where = "" if row_id is None else f" (row id {row_id!r})"
        super().__init__(
            f"{field}: the owner column {owner_field!r} is empty or NULL{where}; refusing to seal"
        )


class PlaintextValueError(MalformedError):
    """An encrypted column holds a value that is not a kc1 envelope (e.g. legacy plaintext).
    ``row_id`` names the row; the value itself is never returned nor put in the message."""

    malformed_kind = "EnvelopePrefix"

    def __init__(self, field: str, row_id: Any) -> None:
        self.field = field
        self.row_id = row_id
        super().__init__(
            f"{field}: row id {row_id!r} holds a value that is not a kc1 envelope "
            "(legacy plaintext?); set migrate_plaintext=True on the field to seal it on read, "
            "or run `keycustody migrate`"
        )


class RowDecryptError(DecryptError):
    """The row's envelope does not open for the row's owner and this column (copied from
    another tenant's row or another column, a wrong keyring, or tampering)."""

    def __init__(self, field: str, row_id: Any) -> None:
        self.field = field
        self.row_id = row_id
        super().__init__(
            f"{field}: row id {row_id!r} does not open for its owner and this column "
            "(copied from another row or column, wrong keyring, or tampered)"
        )


class UnsealedWriteError(InvalidArgumentError):
    """A value reached the database driver without being sealed by the field (e.g. a Core
    insert/update that bypasses the ORM): refused, nothing is written."""

    def __init__(self, field: str) -> None:
        self.field = field
        super().__init__(
            f"{field}: refusing to write a value that was not sealed for its row "
            "(write the column through the ORM, which knows the row's owner)"
        )


def resolve(source: Optional[KeyringSource]) -> Keyring:
    """The keyring: the instance itself, or what the zero-argument callable returns (called at
    first use, so a framework that imports models at build time does not need the keyring)."""
    if source is None:
        raise InvalidArgumentError("no keyring configured for the encrypted field")
    if isinstance(source, Keyring):
        return source
    kr = source()
    if not isinstance(kr, Keyring):
        raise InvalidArgumentError("the keyring callable did not return a keycustody.Keyring")
    return kr


def is_envelope(value: str) -> bool:
    """Whether the text parses as a kc1 envelope header (no key needed)."""
    try:
        inspect(value)
    except MalformedError:
        return False
    return True


def check_owner(field: str, owner_field: str, owner: Any, row_id: Any = None) -> str:
    if owner is None or (isinstance(owner, str) and owner == ""):
        raise OwnerMissingError(field, owner_field, row_id)
    if not isinstance(owner, str):
        owner = str(owner)
        if owner == "":
            raise OwnerMissingError(field, owner_field, row_id)
    return owner


def seal(kr: Keyring, field: str, owner_field: str, owner: Any, plaintext: Any, row_id: Any = None) -> str:
    o = check_owner(field, owner_field, owner, row_id)
    if not isinstance(plaintext, (str, bytes, bytearray)):
        raise InvalidArgumentError(f"{field}: the value must be str or bytes")
    return kr.seal(o, plaintext, field.encode())


def open_value(
    kr: Keyring,
    field: str,
    owner_field: str,
    owner: Any,
    raw: str,
    row_id: Any,
    migrate_plaintext: bool,
) -> "tuple[str, bool]":
    """(plaintext, needs_sealing). A non-kc1 value raises PlaintextValueError unless
    migrate_plaintext, in which case it is returned as is with needs_sealing=True."""
    if not is_envelope(raw):
        if migrate_plaintext:
            return raw, True
        raise PlaintextValueError(field, row_id)
    o = check_owner(field, owner_field, owner, row_id)
    try:
        return kr.open_text(o, raw, field.encode()), False
    except DecryptError as e:
        raise RowDecryptError(field, row_id) from e
