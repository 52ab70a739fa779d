"""A Django model field sealed for the row's owner: ``EncryptedTextField(owner_field="tenant_id")``.

- On save (``pre_save``, which sees the model instance) the plaintext is sealed with
  ``owner = instance.<owner_field>`` and ``context = "<db_table>.<column>"`` (the context
  ``keycustody rewrap --context <db_table>.<column>`` takes); an empty or NULL owner raises
  :class:`OwnerMissingError` before anything is written.
- On load the column holds the envelope; it is opened on first access of the attribute for the
  owner the row was loaded with: a value that does not open raises :class:`RowDecryptError`,
  one that is not kc1 raises :class:`PlaintextValueError` (both name the row's pk) unless the
  field has ``migrate_plaintext=True`` (then the value is returned and sealed by the next save).
- ``values()`` / ``values_list()`` give :class:`StoredEnvelope` objects, never plaintext; a
  lookup or ``update()`` with a plaintext value is refused (:class:`UnsealedWriteError`).

``keyring`` is a Keyring or a zero-argument callable (called at first use, so ``manage.py``
commands that import the models need no keyring); default: ``Keyring.from_env()``.
No cryptography here: the binding's ``Keyring.seal`` / ``open_text`` do it.
"""

from __future__ import annotations

import functools
from typing import Any, Optional

from django.db import models  # type: ignore[import-not-found, import-untyped, unused-ignore]
from django.db.models.query_utils import DeferredAttribute  # type: ignore[import-not-found, import-untyped, unused-ignore]
from django.db.models.signals import post_init  # type: ignore[import-not-found, import-untyped, unused-ignore]

from . import Keyring
from ._orm import (
    KeyringSource,
    OwnerMissingError,
    PlaintextValueError,
    RowDecryptError,
    UnsealedWriteError,
    open_value,
    resolve,
    seal,
)

__all__ = [
    "EncryptedTextField",
    "StoredEnvelope",
    "OwnerMissingError",
    "PlaintextValueError",
    "RowDecryptError",
    "UnsealedWriteError",
]

_UNSET = object()


class StoredEnvelope:
    """The column's stored text as loaded, before it is opened (not a str: never mistaken
    for the plaintext). ``envelope`` is the stored text."""

    __slots__ = ("envelope", "owner")

    def __init__(self, envelope: str) -> None:
        self.envelope = envelope
        self.owner: Any = _UNSET

    def __repr__(self) -> str:
        return "<StoredEnvelope (not opened)>"


class _Sealed(str):
    __slots__ = ()


@functools.lru_cache(maxsize=1)
def _default_keyring() -> Keyring:
    """KEYCUSTODY_KEYRING, read once at first use (a failure is not cached: it is raised again)."""
    return Keyring.from_env()


class _Descriptor(DeferredAttribute):
    def __get__(self, instance: Any, cls: Any = None) -> Any:
        if instance is None:
            return self
        value = super().__get__(instance, cls)
        if isinstance(value, StoredEnvelope):
            field: EncryptedTextField = self.field  # type: ignore[assignment]
            owner = value.owner
            if owner is _UNSET:
                owner = getattr(instance, field._owner_attname())
            plain, _ = open_value(
                resolve(field.keyring),
                field._context_name(),
                field.owner_field,
                owner,
                value.envelope,
                instance.pk,
                field.migrate_plaintext,
            )
            instance.__dict__[self.field.attname] = plain
            return plain
        return value

    def __set__(self, instance: Any, value: Any) -> None:
        instance.__dict__[self.field.attname] = value


class EncryptedTextField(models.TextField):  # type: ignore[type-arg]
    descriptor_class = _Descriptor

    def __init__(
        self,
        *args: Any,
        owner_field: str,
        keyring: Optional[KeyringSource] = None,
        context: Optional[str] = None,
        migrate_plaintext: bool = False,
        **kwargs: Any,
    ) -> None:
        if not owner_field:
            raise ValueError("EncryptedTextField needs owner_field=<the owner field's name>")
        self.owner_field = owner_field
        self.keyring = keyring if keyring is not None else _default_keyring
        self.context = context
        self.migrate_plaintext = migrate_plaintext
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs["owner_field"] = self.owner_field
        if self.context is not None:
            kwargs["context"] = self.context
        if self.migrate_plaintext:
            kwargs["migrate_plaintext"] = True
        return name, path, args, kwargs

    def _owner_attname(self) -> str:
        return str(self.model._meta.get_field(self.owner_field).attname)

    def _context_name(self) -> str:
        return self.context or f"{self.model._meta.db_table}.{self.column}"

    def contribute_to_class(self, cls: Any, name: str, *args: Any, **kwargs: Any) -> None:
        super().contribute_to_class(cls, name, *args, **kwargs)
        if not cls._meta.abstract:
            post_init.connect(self._snapshot_owner, sender=cls, weak=False)

    def _snapshot_owner(self, sender: Any, instance: Any, **_: Any) -> None:
        value = instance.__dict__.get(self.attname)
        if isinstance(value, StoredEnvelope):
            value.owner = instance.__dict__.get(self._owner_attname())

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None:
            return None
        return StoredEnvelope(value)

    def to_python(self, value: Any) -> Any:
        return value

    def pre_save(self, model_instance: Any, add: bool) -> Any:
        value = getattr(model_instance, self.attname)  # opens a loaded envelope first
        if value is None:
            return None
        return _Sealed(
            seal(
                resolve(self.keyring),
                self._context_name(),
                self.owner_field,
                getattr(model_instance, self._owner_attname()),
                value,
                model_instance.pk,
            )
        )

    def get_prep_value(self, value: Any) -> Any:
        if value is None or isinstance(value, _Sealed):
            return value
        if isinstance(value, StoredEnvelope):
            return value.envelope
        raise UnsealedWriteError(self._context_name())
