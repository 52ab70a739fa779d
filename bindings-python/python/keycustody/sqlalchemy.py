"""SQLAlchemy 2 columns sealed for the row's owner: ``EncryptedText(owner="tenant_id", keyring=...)``.

A ``TypeDecorator`` alone cannot see the row, so this module pairs the column type with ORM
events on every mapper that uses it:

- ``before_insert`` / ``before_update``: the attribute's plaintext is sealed with
  ``owner = <the row's owner attribute>`` and ``context = "<table>.<column>"`` (the same
  context ``keycustody rewrap --context <table>.<column>`` takes); an empty or NULL owner raises
  :class:`OwnerMissingError` and nothing is written. A change of the owner re-seals the value.
- ``after_insert`` / ``after_update``: the object keeps the plaintext (not dirty).
- ``load`` / ``refresh``: the envelope is opened for the loaded owner; a value that does not open
  raises :class:`RowDecryptError` naming the row id, a value that is not kc1 raises
  :class:`PlaintextValueError` naming the row id (with ``migrate_plaintext=True`` it is returned
  and sealed by the session's next commit or flush instead).
- The column type itself refuses, at bind time, any value the events did not seal (a Core
  ``insert()``/``update()`` with a plaintext value): :class:`UnsealedWriteError`.

No cryptography here: the binding's ``Keyring.seal`` / ``open_text`` do it.
"""

from __future__ import annotations

import weakref
from typing import Any, Dict, List, Optional

from sqlalchemy import event  # type: ignore[import-not-found, unused-ignore]
from sqlalchemy import inspect as sa_inspect  # type: ignore[import-not-found, unused-ignore]
from sqlalchemy.orm import Mapper, Session  # type: ignore[import-not-found, unused-ignore]
from sqlalchemy.orm.attributes import (  # type: ignore[import-not-found, unused-ignore]
    flag_modified,
    set_committed_value,
)
from sqlalchemy.types import Text, TypeDecorator  # type: ignore[import-not-found, unused-ignore]

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
    "EncryptedText",
    "OwnerMissingError",
    "PlaintextValueError",
    "RowDecryptError",
    "UnsealedWriteError",
]


class _Sealed(str):
    """An envelope the events produced for this row: the only value the column type binds."""

    __slots__ = ()


class EncryptedText(TypeDecorator):  # type: ignore[type-arg]
    """A TEXT column holding a kc1 envelope bound to the row's ``owner`` attribute and to
    ``"<table>.<column>"`` (or ``context=``). ``keyring`` is a Keyring or a zero-argument
    callable returning one (called at first use)."""

    impl = Text
    cache_ok = True

    def __init__(
        self,
        owner: str,
        keyring: Optional[KeyringSource] = None,
        *,
        context: Optional[str] = None,
        migrate_plaintext: bool = False,
    ) -> None:
        super().__init__()
        if not owner:
            raise ValueError("EncryptedText needs owner=<the owner attribute's name>")
        self.owner = owner
        self.keyring = keyring
        self.context = context
        self.migrate_plaintext = migrate_plaintext
        self._field = "?"

    def process_bind_param(self, value: Any, dialect: Any) -> Optional[str]:
        if value is None:
            return None
        if isinstance(value, _Sealed):
            return str(value)
        raise UnsealedWriteError(self._field)

    def process_result_value(self, value: Any, dialect: Any) -> Optional[str]:
        return value


class _Field:
    __slots__ = ("key", "owner_key", "type", "name")

    def __init__(self, key: str, owner_key: str, typ: EncryptedText, name: str) -> None:
        self.key = key
        self.owner_key = owner_key
        self.type = typ
        self.name = name


_PENDING = "keycustody_plaintext"
_RESEAL = "keycustody_reseal"
_FORCE = "keycustody_force"
# Objects loaded with legacy plaintext in a migrate_plaintext field: the next commit (or flush)
# of their session marks those attributes modified so before_update seals them. (Marking them
# in the load event itself does not last: the loader commits the state after the event.)
_TO_RESEAL: "weakref.WeakSet[Any]" = weakref.WeakSet()


def _row_id(state: Any) -> Any:
    ident = state.identity
    if ident is None:
        return None
    return ident[0] if len(ident) == 1 else ident


def _committed_owner(state: Any, key: str) -> Any:
    """The owner the stored envelope was sealed for: the loaded value, even when the object
    has a pending change of the owner."""
    hist = state.attrs[key].history
    if hist.deleted:
        return hist.deleted[0]
    return state.dict.get(key)


def _seal_target(fields: List[_Field], target: Any, update: bool) -> None:
    state = sa_inspect(target)
    pending: Dict[str, Any] = {}
    forced = state.info.pop(_FORCE, set())
    for f in fields:
        if update and f.key not in forced:
            moved = state.attrs[f.owner_key].history.has_changes()
            if not (moved or state.attrs[f.key].history.has_changes()):
                continue
        value = getattr(target, f.key)
        if value is None:
            continue
        if isinstance(value, _Sealed):
            continue
        env = seal(
            resolve(f.type.keyring),
            f.name,
            f.owner_key,
            getattr(target, f.owner_key),
            value,
            _row_id(state),
        )
        setattr(target, f.key, _Sealed(env))
        pending[f.key] = value
    if pending:
        state.info[_PENDING] = pending


def _after_write(target: Any) -> None:
    state = sa_inspect(target)
    pending = state.info.pop(_PENDING, None)
    if pending:
        for key, value in pending.items():
            set_committed_value(target, key, value)


def _open_target(fields: List[_Field], target: Any, attrs: Optional[Any]) -> None:
    state = sa_inspect(target)
    for f in fields:
        if attrs is not None and f.key not in attrs:
            continue
        if f.key not in state.dict:
            continue  # deferred / not loaded
        raw = state.dict[f.key]
        if raw is None:
            continue
        plain, needs_sealing = open_value(
            resolve(f.type.keyring),
            f.name,
            f.owner_key,
            _committed_owner(state, f.owner_key),
            raw,
            _row_id(state),
            f.type.migrate_plaintext,
        )
        set_committed_value(target, f.key, plain)
        if needs_sealing:
            state.info.setdefault(_RESEAL, set()).add(f.key)
            _TO_RESEAL.add(state)


def _fields_of(mapper: Mapper) -> List[_Field]:  # type: ignore[type-arg]
    out: List[_Field] = []
    for prop in mapper.column_attrs:
        for col in prop.columns:
            typ = col.type
            if not isinstance(typ, EncryptedText):
                continue
            if typ.owner not in mapper.attrs:
                raise ValueError(
                    f"{mapper.class_.__name__}.{prop.key}: owner={typ.owner!r} is not a mapped attribute"
                )
            table = getattr(col.table, "name", None) or getattr(mapper.local_table, "name", "")
            name = typ.context or f"{table}.{col.name}"
            typ._field = name
            out.append(_Field(prop.key, typ.owner, typ, name))
    return out


def _mark_legacy_for_sealing(session: Session) -> None:
    if not _TO_RESEAL:
        return
    for state in list(_TO_RESEAL):
        if state.session_id != session.hash_key or state.obj() is None:
            continue
        _TO_RESEAL.discard(state)
        keys = state.info.pop(_RESEAL, set())
        state.info.setdefault(_FORCE, set()).update(keys)
        for key in keys:
            flag_modified(state.obj(), key)


# A commit flushes what this marks (before_commit runs even when nothing else is dirty); a
# flush with other changes takes them along.
@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    _mark_legacy_for_sealing(session)


@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, _ctx: Any, _instances: Any) -> None:
    _mark_legacy_for_sealing(session)


@event.listens_for(Mapper, "mapper_configured")
def _configure(mapper: Mapper, class_: Any) -> None:  # type: ignore[type-arg]
    fields = _fields_of(mapper)
    if not fields:
        return

    def before_insert(_m: Any, _c: Any, target: Any) -> None:
        _seal_target(fields, target, update=False)

    def before_update(_m: Any, _c: Any, target: Any) -> None:
        _seal_target(fields, target, update=True)

    def after_write(_m: Any, _c: Any, target: Any) -> None:
        _after_write(target)

    def on_load(target: Any, _ctx: Any) -> None:
        _open_target(fields, target, None)

    def on_refresh(target: Any, _ctx: Any, attrs: Any) -> None:
        _open_target(fields, target, attrs)

    event.listen(mapper, "before_insert", before_insert)
    event.listen(mapper, "before_update", before_update)
    event.listen(mapper, "after_insert", after_write)
    event.listen(mapper, "after_update", after_write)
    event.listen(class_, "load", on_load)
    event.listen(class_, "refresh", on_refresh)
