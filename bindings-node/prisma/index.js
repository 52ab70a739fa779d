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

const orm = require('keycustody/orm')

const dataOwnerMissing = (field, ownerField) => () =>
  orm.ownerMissing(field, ownerField, `field ${JSON.stringify(ownerField)} is empty, NULL or not in the same data`)
const ADVICE = 'set migratePlaintext on the field to read it'

const WRITES = new Set(['create', 'createMany', 'createManyAndReturn', 'update', 'updateMany', 'updateManyAndReturn', 'upsert'])

/**
 * @param opts {keyring: Keyring | () => Keyring,
 *              models: {[modelKey]: {table: "<db table>", id?: "id", fields: {[field]: {owner, column?, context?, migratePlaintext?}}}}}
 *   modelKey is the client's property (e.g. "account"); column defaults to the field name.
 */
function keycustodyFields(opts) {
  const keyring = orm.keyringOf(opts, 'keycustodyFields')
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
        let o = data[f.owner]
        if (o && typeof o === 'object' && 'set' in o) o = o.set
        out[f.key] = orm.sealForOwner(keyring(), v, { owner: o, field: f.ctx, noOwner: dataOwnerMissing(f.ctx, f.owner) })
      }
      return out
    }
    const refuseFilter = (where) => {
      if (!where || typeof where !== 'object') return
      for (const f of fields) if (f.key in where) throw orm.unsealedWrite(f.ctx, 'an encrypted field cannot be used in a filter')
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
          return orm.openForOwner(keyring(), v, {
            owner: row[f.owner],
            field: f.ctx,
            rowId: row[idKey],
            migrate: f.migrate,
            advice: ADVICE,
            // An envelope without its owner cannot open for this row.
            noOwner: () => orm.rowDecrypt(f.ctx, row[idKey]),
          }).value
        },
      }
    }
  }
  return { name: 'keycustody', query, result }
}

module.exports = { keycustodyFields, ...orm.errors }
