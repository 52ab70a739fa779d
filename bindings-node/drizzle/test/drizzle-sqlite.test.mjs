// keycustody-drizzle on SQLite (drizzle-orm/sql-js: the real SQLite engine compiled to wasm, a
// database file on disk): round trip, a value copied into another tenant's row or another
// column fails to open, an empty owner is refused, legacy plaintext is reported by id, and
// `keycustody rewrap` over the same file after a rotation leaves every row readable.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

const require = createRequire(import.meta.url)
const kc = require('../../index.js') // the napi binding (make node-build)
const initSqlJs = require('sql.js')
const { drizzle } = require('drizzle-orm/sql-js')
const { sqliteTable, integer, text } = require('drizzle-orm/sqlite-core')
const { eq, asc } = require('drizzle-orm')
const { encryptedTextSqlite, encryptedFields, StoredEnvelope, OwnerMissingError, PlaintextValueError, RowDecryptError } = require('../index.js')

const cli = process.env.KEYCUSTODY_CLI ?? ''
if (!cli) throw new Error('KEYCUSTODY_CLI (the keycustody binary) is required: run `make test-orm`')

const accounts = sqliteTable('dzs_accounts', {
  id: integer('id').primaryKey(),
  tenantId: text('tenant_id'),
  apiKey: encryptedTextSqlite('api_key'),
  webhookSecret: encryptedTextSqlite('webhook_secret'),
})
let kr
const fields = encryptedFields(accounts, { keyring: () => kr, columns: { apiKey: { owner: 'tenantId' }, webhookSecret: { owner: 'tenantId' } } })
const SQL = await initSqlJs()

function fresh() {
  kr = kc.Keyring.generate()
  const sqlite = new SQL.Database()
  sqlite.run('CREATE TABLE dzs_accounts (id INTEGER PRIMARY KEY, tenant_id TEXT, api_key TEXT, webhook_secret TEXT)')
  return { sqlite, db: drizzle(sqlite) }
}
const load = (db, id) => db.select().from(accounts).where(eq(accounts.id, id)).all()[0]

test('SQLite: round trip, copies fail to open, empty owner refused, legacy plaintext reported by id', () => {
  const { sqlite, db } = fresh()
  db.insert(accounts).values([
    fields.seal({ id: 1, tenantId: 'acme', apiKey: 'sk-acme', webhookSecret: 'wh-acme' }),
    fields.seal({ id: 2, tenantId: 'globex', apiKey: 'sk-globex' }),
  ]).run()
  const raw = sqlite.exec('SELECT api_key FROM dzs_accounts WHERE id = 1')[0].values[0][0]
  assert.equal(kr.openText('acme', raw, 'dzs_accounts.api_key'), 'sk-acme')
  assert.ok(load(db, 1).apiKey instanceof StoredEnvelope)
  assert.deepEqual(fields.open(load(db, 1)), { id: 1, tenantId: 'acme', apiKey: 'sk-acme', webhookSecret: 'wh-acme' })
  sqlite.run('UPDATE dzs_accounts SET api_key = (SELECT api_key FROM dzs_accounts WHERE id = 1) WHERE id = 2')
  assert.throws(() => fields.open(load(db, 2)), (e) => e instanceof RowDecryptError && e.rowId === 2 && e.code === 'KC_DECRYPT_FAILED')
  sqlite.run('UPDATE dzs_accounts SET api_key = webhook_secret WHERE id = 1')
  assert.throws(() => fields.open(load(db, 1)), (e) => e instanceof RowDecryptError && e.field === 'dzs_accounts.api_key')
  assert.throws(() => fields.seal({ id: 3, tenantId: '', apiKey: 'sk-x' }), OwnerMissingError)
  sqlite.run("INSERT INTO dzs_accounts (id, tenant_id, api_key) VALUES (7, 'acme', 'sk-legacy-plain')")
  assert.throws(() => fields.open(load(db, 7)), (e) => e instanceof PlaintextValueError && e.rowId === 7 && !e.message.includes('sk-legacy'))
})

test('SQLite: keycustody rewrap over the database file after a rotation leaves every row readable', () => {
  const { sqlite, db } = fresh()
  const n = 30
  db.insert(accounts).values(Array.from({ length: n }, (_, i) => fields.seal({ id: i + 1, tenantId: `t${i % 5}`, apiKey: `sk-${i + 1}` }))).run()
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kc-drizzle-'))
  try {
    const file = path.join(dir, 'app.sqlite3')
    fs.writeFileSync(file, sqlite.export())
    const old = kr.primaryKid
    kr.rotate()
    kr = kc.Keyring.parse(kr.export())
    const env = { ...process.env, KEYCUSTODY_KEYRING: kr.export() }
    delete env.KEYCUSTODY_KEYRING_FILE
    const out = execFileSync(cli, ['rewrap', '--db', `sqlite:${file}`, '--table', 'dzs_accounts', '--owner-column', 'tenant_id',
      '--column', 'api_key', '--context', fields.contexts.apiKey, '--json'], { env, encoding: 'utf8' })
    assert.equal(JSON.parse(out).rewritten, n)
    kr.retire(old)
    const db2 = drizzle(new SQL.Database(fs.readFileSync(file)))
    const all = db2.select().from(accounts).orderBy(asc(accounts.id)).all().map(fields.open)
    assert.deepEqual(all.map((r) => r.apiKey), Array.from({ length: n }, (_, i) => `sk-${i + 1}`))
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})
