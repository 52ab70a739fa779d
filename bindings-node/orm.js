'use strict'
// keycustody/orm: what keycustody-drizzle and keycustody-prisma share (not a public API of
// its own; its names may change with them). No cryptography: sealing and opening are the
// binding's Keyring.seal / Keyring.openText with owner = the row's owner and context = the
// field ("<table>.<column>"); here are the owner rule, the legacy-plaintext rule and the
// typed errors both ORMs raise.

function kcError(Base, kind, code, message, extra) {
  const e = new Base(message)
  e.kind = kind
  e.code = code
  Object.assign(e, extra)
  return e
}

class OwnerMissingError extends Error {}
OwnerMissingError.prototype.name = 'OwnerMissingError'
class PlaintextValueError extends Error {}
PlaintextValueError.prototype.name = 'PlaintextValueError'
class RowDecryptError extends Error {}
RowDecryptError.prototype.name = 'RowDecryptError'
class UnsealedWriteError extends Error {}
UnsealedWriteError.prototype.name = 'UnsealedWriteError'

/** An owner-missing refusal: `${field}: the owner ${what}; refusing to seal`. */
const ownerMissing = (field, ownerField, what, extra) =>
  kcError(OwnerMissingError, 'InvalidOwner', 'KC_INVALID_OWNER',
    `${field}: the owner ${what}; refusing to seal`, { field, ownerField, ...extra })
/** A stored value that is not kc1; `advice` says how this ORM migrates it. */
const plaintextValue = (field, rowId, advice) =>
  kcError(PlaintextValueError, 'Malformed', 'KC_MALFORMED',
    `${field}: row id ${JSON.stringify(rowId)} holds a value that is not a kc1 envelope (legacy plaintext?); ` +
      `${advice}, or run \`keycustody migrate\``,
    { field, rowId, malformedKind: 'EnvelopePrefix' })
const rowDecrypt = (field, rowId) =>
  kcError(RowDecryptError, 'DecryptFailed', 'KC_DECRYPT_FAILED',
    `${field}: row id ${JSON.stringify(rowId)} does not open for its owner and this column ` +
      '(copied from another row or column, wrong keyring, or tampered)',
    { field, rowId })
const unsealedWrite = (field, message) =>
  kcError(UnsealedWriteError, 'InvalidArgument', 'KC_INVALID_ARGUMENT', `${field}: ${message}`, { field })

/** `opts.keyring` (a Keyring, or a function returning one, called at each use). */
function keyringOf(opts, who) {
  return () => {
    const k = typeof opts.keyring === 'function' ? opts.keyring() : opts.keyring
    if (!k || typeof k.seal !== 'function') throw new TypeError(`${who}: no keyring configured`)
    return k
  }
}

/** An owner is any value but null, undefined and the empty string. */
const hasOwner = (o) => !(o === null || o === undefined || o === '')

// Whether the text parses as a kc1 envelope header (the keyring reads the header only).
function isEnvelope(kr, text) {
  try {
    kr.needsRewrap(text)
    return true
  } catch (e) {
    if (e && e.code === 'KC_MALFORMED') return false
    throw e
  }
}

/**
 * Seals a plaintext string for the row's owner (`noOwner()` builds the error thrown when the
 * row has none).
 */
function sealForOwner(kr, value, { owner, field, noOwner }) {
  if (typeof value !== 'string') throw new TypeError(`${field}: the value must be a string`)
  if (!hasOwner(owner)) throw noOwner()
  return kr.seal(String(owner), value, field)
}

/**
 * Opens a stored value for the row's owner: `{ value }`, the plaintext; `{ value, legacy: true }`
 * when the value is not kc1 and `migrate` is set (the value itself, to be sealed on write;
 * without `migrate`: PlaintextValueError with `advice`); RowDecryptError when it does not
 * open for this owner and field; `noOwner()` when the row has no owner.
 */
function openForOwner(kr, text, { owner, field, rowId, migrate, advice, noOwner }) {
  if (!isEnvelope(kr, text)) {
    if (!migrate) throw plaintextValue(field, rowId, advice)
    return { value: text, legacy: true }
  }
  if (!hasOwner(owner)) throw noOwner()
  try {
    return { value: kr.openText(String(owner), text, field) }
  } catch (e) {
    if (e && e.code === 'KC_DECRYPT_FAILED') throw rowDecrypt(field, rowId)
    throw e
  }
}

/** The error classes, as both packages export them. */
const errors = { OwnerMissingError, PlaintextValueError, RowDecryptError, UnsealedWriteError }

module.exports = {
  ...errors,
  errors,
  ownerMissing,
  rowDecrypt,
  unsealedWrite,
  keyringOf,
  sealForOwner,
  openForOwner,
}
