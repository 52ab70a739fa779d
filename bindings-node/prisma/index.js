'use strict'
// keycustody-prisma: a Prisma Client extension (`prisma.$extends(keycustodyFields({...}))`) that
// seals fields for the row's owner. No cryptography here: every seal/open is the keycustody
// binding's Keyring.seal / Keyring.openText with owner = the row's owner field and context =
// "<table>.<column>" (the context `keycustody rewrap --context` takes).
//
// - query extension: create / createMany / createManyAndReturn / update / updateMany /
//   updateManyAndReturn / upsert seal each configured field of `data` for the owner field in
//   the same `data` (absent, empty or NULL owner: OwnerMissingError, nothing is sent); a
//   `where` that filters on an encrypted field is refused (an envelope never equals a plaintext).
// - result extension: each configured field is computed from the row's envelope, owner and id:
//   opened for the owner, RowDecryptError when it does not open (copied from another row or
//   column), PlaintextValueError when it is not kc1 (unless migratePlaintext: then the value
//   itself, to be written back through the extended client).

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

const ownerMissing = (field, ownerField) =>
  kcError(OwnerMissingError, 'InvalidOwner', 'KC_INVALID_OWNER',
    `${field}: the owner field ${JSON.stringify(ownerField)} is empty, NULL or not in the same data; refusing to seal`,
    { field, ownerField })
const plaintextValue = (field, rowId) =>
  kcError(PlaintextValueError, 'Malformed', 'KC_MALFORMED',
    `${field}: row id ${JSON.stringify(rowId)} holds a value that is not a kc1 envelope (legacy plaintext?); ` +
      'set migratePlaintext on the field to read it, or run `keycustody migrate`',
    { field, rowId, malformedKind: 'EnvelopePrefix' })
const rowDecrypt = (field, rowId) =>
  kcError(RowDecryptError, 'DecryptFailed', 'KC_DECRYPT_FAILED',
    `${field}: row id ${JSON.stringify(rowId)} does not open for its owner and this column ` +
      '(copied from another row or column, wrong keyring, or tampered)',
    { field, rowId })
const unsealedFilter = (field) =>
  kcError(UnsealedWriteError, 'InvalidArgument', 'KC_INVALID_ARGUMENT',
    `${field}: an encrypted field cannot be used in a filter`, { field })

function isEnvelope(kr, text) {
  try {
    kr.needsRewrap(text)
    return true
  } catch (e) {
    if (e && e.code === 'KC_MALFORMED') return false
    throw e
  }
}

const WRITES = new Set(['create', 'createMany', 'createManyAndReturn', 'update', 'updateMany', 'updateManyAndReturn', 'upsert'])

/**
 * @param opts {keyring: Keyring | () => Keyring,
 *              models: {[modelKey]: {table: "<db table>", id?: "id", fields: {[field]: {owner, column?, context?, migratePlaintext?}}}}}
 *   modelKey is the client's property (e.g. "account"); column defaults to the field name.
 */
function keycustodyFields(opts) {
  const keyring = () => {
    const k = typeof opts.keyring === 'function' ? opts.keyring() : opts.keyring
    if (!k || typeof k.seal !== 'function') throw new TypeError('keycustodyFields: no keyring configured')
    return k
  }
  const query = {}
  const result = {}
  for (const [model, m] of Object.entries(opts.models)) {
    if (!m.table) throw new TypeError(`keycustodyFields: ${model}: table (the database table name) is required`)
    const idKey = m.id ?? 'id'
    const fields = Object.entries(m.fields).map(([key, f]) => ({
      key,
      owner: f.owner,
      migrate: !!f.migratePlaintext,
      ctx: f.context ?? `${m.table}.${f.column ?? key}`,
    }))
    const sealData = (data) => {
      if (!data || typeof data !== 'object') return data
      if (Array.isArray(data)) return data.map(sealData)
      const out = { ...data }
      for (const f of fields) {
        if (!(f.key in data)) continue
        let v = data[f.key]
        if (v && typeof v === 'object' && 'set' in v) v = v.set
        if (v === null || v === undefined) continue
        if (typeof v !== 'string') throw new TypeError(`${f.ctx}: the value must be a string`)
        let o = data[f.owner]
        if (o && typeof o === 'object' && 'set' in o) o = o.set
        if (o === null || o === undefined || o === '') throw ownerMissing(f.ctx, f.owner)
        out[f.key] = keyring().seal(String(o), v, f.ctx)
      }
      return out
    }
    const refuseFilter = (where) => {
      if (!where || typeof where !== 'object') return
      for (const f of fields) if (f.key in where) throw unsealedFilter(f.ctx)
      for (const k of ['AND', 'OR', 'NOT']) {
        const w = where[k]
        if (Array.isArray(w)) w.forEach(refuseFilter)
        else refuseFilter(w)
      }
    }
    query[model] = {
      async $allOperations({ operation, args, query: next }) {
        if (args && args.where) refuseFilter(args.where)
        if (WRITES.has(operation) && args) {
          args = { ...args }
          if (operation === 'upsert') {
            args.create = sealData(args.create)
            args.update = sealData(args.update)
          } else {
            args.data = sealData(args.data)
          }
        }
        return next(args)
      },
    }
    result[model] = {}
    for (const f of fields) {
      result[model][f.key] = {
        needs: { [f.key]: true, [f.owner]: true, [idKey]: true },
        compute(row) {
          const v = row[f.key]
          if (v === null || v === undefined) return v
          const kr = keyring()
          if (!isEnvelope(kr, v)) {
            if (f.migrate) return v
            throw plaintextValue(f.ctx, row[idKey])
          }
          const o = row[f.owner]
          if (o === null || o === undefined || o === '') throw rowDecrypt(f.ctx, row[idKey])
          try {
            return kr.openText(String(o), v, f.ctx)
          } catch (e) {
            if (e && e.code === 'KC_DECRYPT_FAILED') throw rowDecrypt(f.ctx, row[idKey])
            throw e
          }
        },
      }
    }
  }
  return { name: 'keycustody', query, result }
}

module.exports = { keycustodyFields, OwnerMissingError, PlaintextValueError, RowDecryptError, UnsealedWriteError }
