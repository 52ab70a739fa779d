'use strict'
// keycustody-drizzle: Drizzle ORM columns sealed for the row's owner (no cryptography here:
// every seal/open is the keycustody binding's Keyring.seal / Keyring.open with owner = the row's
// owner column and context = "<table>.<column>", the context `keycustody rewrap --context` takes).
//
// Drizzle's custom types see one value, never the row, so the binding to the row's owner is done
// by a helper over whole rows: fields.seal(row) before insert/update, fields.open(row) after select.
// The column type itself refuses any value the helper did not seal (toDriver), and gives back a
// StoredEnvelope (fromDriver), never a string that could pass for the plaintext.

const { getTableColumns, getTableName } = require('drizzle-orm')

/** The column's stored text before it is opened (not a string). */
class StoredEnvelope {
  constructor(envelope) {
    this.envelope = envelope
  }
  toString() {
    return '[StoredEnvelope (not opened)]'
  }
  toJSON() {
    return '[StoredEnvelope (not opened)]'
  }
}

/** An envelope sealed by fields.seal() for its row: the only value the column type writes. */
class SealedValue {
  constructor(envelope) {
    this.envelope = envelope
  }
  toString() {
    return this.envelope
  }
}

const orm = require('keycustody/orm')

const columnOwnerMissing = (field, ownerField, rowId) => () =>
  orm.ownerMissing(field, ownerField,
    `column ${JSON.stringify(ownerField)} is empty or NULL` +
      (rowId === undefined ? '' : ` (row id ${JSON.stringify(rowId)})`),
    { rowId })
const ADVICE = 'set migratePlaintext on the column to seal it on read'

function makeEncryptedText(customType) {
  return (name) =>
    customType({
      dataType() {
        return 'text'
      },
      toDriver(value) {
        if (value instanceof SealedValue) return value.envelope
        throw orm.unsealedWrite(name ?? 'encrypted column',
          'refusing to write a value that was not sealed for its row (pass the row through fields.seal())')
      },
      fromDriver(value) {
        return new StoredEnvelope(value)
      },
    })(name)
}

/** A TEXT column holding a kc1 envelope (PostgreSQL, drizzle-orm/pg-core). */
function encryptedText(name) {
  return makeEncryptedText(require('drizzle-orm/pg-core').customType)(name)
}

/** The same for SQLite (drizzle-orm/sqlite-core). */
function encryptedTextSqlite(name) {
  return makeEncryptedText(require('drizzle-orm/sqlite-core').customType)(name)
}

/**
 * The row helper of a table's encrypted columns.
 * @param table a Drizzle table
 * @param opts {keyring: Keyring | () => Keyring, columns: {key: {owner: ownerKey, migratePlaintext?}}, id?: key}
 */
function encryptedFields(table, opts) {
  const cols = getTableColumns(table)
  const tableName = getTableName(table)
  const idKey = opts.id ?? 'id'
  const fields = Object.entries(opts.columns).map(([key, c]) => {
    if (!cols[key]) throw new TypeError(`encryptedFields: ${tableName} has no column ${key}`)
    if (!c || !cols[c.owner]) throw new TypeError(`encryptedFields: ${tableName}.${key}: owner must name a column of the table`)
    return { key, owner: c.owner, migrate: !!c.migratePlaintext, field: c.context ?? `${tableName}.${cols[key].name}` }
  })
  const keyring = orm.keyringOf(opts, 'encryptedFields')
  const owned = (f, row) => ({
    owner: row[f.owner],
    field: f.field,
    rowId: row[idKey],
    migrate: f.migrate,
    advice: ADVICE,
    noOwner: columnOwnerMissing(f.field, f.owner, row[idKey]),
  })
  return {
    /** A copy of row with each encrypted value (plaintext string) sealed for row[owner]. */
    seal(row) {
      const out = { ...row }
      for (const f of fields) {
        if (!(f.key in row)) continue
        const v = row[f.key]
        if (v === null || v === undefined) continue
        if (v instanceof SealedValue) continue
        out[f.key] = new SealedValue(orm.sealForOwner(keyring(), v, owned(f, row)))
      }
      return out
    },
    /**
     * A copy of a selected row with each envelope opened for the row's owner (a value copied
     * from another row or column: RowDecryptError; not kc1: PlaintextValueError, or with
     * migratePlaintext the value itself and `needsSealing` listing the column).
     */
    open(row) {
      const out = { ...row }
      for (const f of fields) {
        const v = row[f.key]
        if (!(v instanceof StoredEnvelope)) continue
        const { value, legacy } = orm.openForOwner(keyring(), v.envelope, owned(f, row))
        out[f.key] = value
        if (legacy) {
          Object.defineProperty(out, 'needsSealing', { value: [...(out.needsSealing ?? []), f.key], enumerable: false, configurable: true })
        }
      }
      return out
    },
    /** The context each column is sealed with ("<table>.<column>"). */
    contexts: Object.fromEntries(fields.map((f) => [f.key, f.field])),
  }
}

module.exports = {
  encryptedText,
  encryptedTextSqlite,
  encryptedFields,
  StoredEnvelope,
  SealedValue,
  ...orm.errors,
}
