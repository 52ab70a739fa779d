// keycustody-drizzle against the real PostgreSQL the make target starts (DATABASE_URL,
// required: the suite FAILS without it) through node-postgres: round trip, a value copied into
// another tenant's row or another column fails to open (typed), an empty/NULL owner is refused
// on write, legacy plaintext is reported by id unless migrating, a write that bypasses the
// helper is refused, and `keycustody rewrap` over the table keeps every row readable.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { execFileSync } from 'node:child_process'

const require = createRequire(import.meta.url)
const kc = require('../../index.js') // the napi binding (make node-build)
const { drizzle } = require('drizzle-orm/node-postgres')
const { pgTable, integer, text } = require('drizzle-orm/pg-core')
const { eq, asc } = require('drizzle-orm')
const pg = require('pg')
const {
  encryptedText, encryptedFields, StoredEnvelope,
  OwnerMissingError, PlaintextValueError, RowDecryptError, UnsealedWriteError,
} = require('../index.js')

const url = process.env.DATABASE_URL ?? ''
const cli = process.env.KEYCUSTODY_CLI ?? ''
if (!/^postgres(ql)?:\/\//.test(url)) throw new Error('DATABASE_URL (PostgreSQL) is required: run `make test-orm`')
if (!cli) throw new Error('KEYCUSTODY_CLI (the keycustody binary) is required: run `make test-orm`')

const accounts = pgTable('dz_accounts', {
  id: integer('id').primaryKey(),
  tenantId: text('tenant_id'),
  apiKey: encryptedText('api_key'),
  webhookSecret: encryptedText('webhook_secret'),
})
let kr = kc.Keyring.generate()
const fields = encryptedFields(accounts, {
  keyring: () => kr,
  columns: { apiKey: { owner: 'tenantId' }, webhookSecret: { owner: 'tenantId' } },
})
const migrating = encryptedFields(accounts, {
  keyring: () => kr,
  columns: { apiKey: { owner: 'tenantId', migratePlaintext: true } },
})

let pool, db
before(async () => {
  pool = new pg.Pool({ connectionString: url, max: 4 })
  db = drizzle(pool)
})
after(async () => {
  await pool.query('DROP TABLE IF EXISTS dz_accounts')
  await pool.end()
})

async function fresh() {
  kr = kc.Keyring.generate()
  await pool.query('DROP TABLE IF EXISTS dz_accounts')
  await pool.query('CREATE TABLE dz_accounts (id integer PRIMARY KEY, tenant_id text, api_key text, webhook_secret text)')
}
const raw = async (id) => (await pool.query('SELECT * FROM dz_accounts WHERE id = $1', [id])).rows[0]
const load = async (id) => (await db.select().from(accounts).where(eq(accounts.id, id)))[0]

test('round trip: sealed for the row owner and table.column; select gives StoredEnvelope until opened', async () => {
  await fresh()
  await db.insert(accounts).values([
    fields.seal({ id: 1, tenantId: 'acme', apiKey: 'sk-acme', webhookSecret: 'wh-acme' }),
    fields.seal({ id: 2, tenantId: 'globex', apiKey: 'sk-globex', webhookSecret: null }),
  ])
  const r = await raw(1)
  assert.match(r.api_key, /^kc1\./)
  assert.ok(!r.api_key.includes('sk-acme'))
  assert.equal(kr.openText('acme', r.api_key, 'dz_accounts.api_key'), 'sk-acme')
  assert.equal(kr.openText('acme', r.webhook_secret, 'dz_accounts.webhook_secret'), 'wh-acme')
  const row = await load(1)
  assert.ok(row.apiKey instanceof StoredEnvelope)
  assert.deepEqual(fields.open(row), { id: 1, tenantId: 'acme', apiKey: 'sk-acme', webhookSecret: 'wh-acme' })
  assert.deepEqual(fields.open(await load(2)), { id: 2, tenantId: 'globex', apiKey: 'sk-globex', webhookSecret: null })
  // An update that moves the row to another owner seals for that owner.
  await db.update(accounts).set(fields.seal({ tenantId: 'initech', apiKey: 'sk-acme' })).where(eq(accounts.id, 1))
  assert.equal(kr.openText('initech', (await raw(1)).api_key, 'dz_accounts.api_key'), 'sk-acme')
})

test('a value copied into another tenant row or another column fails to open (typed, names the id)', async () => {
  await fresh()
  await db.insert(accounts).values([
    fields.seal({ id: 1, tenantId: 'acme', apiKey: 'sk-acme', webhookSecret: 'wh-acme' }),
    fields.seal({ id: 2, tenantId: 'globex', apiKey: 'sk-globex' }),
  ])
  await pool.query('UPDATE dz_accounts SET api_key = (SELECT api_key FROM dz_accounts WHERE id = 1) WHERE id = 2')
  const row2 = await load(2)
  assert.throws(() => fields.open(row2), (e) => {
    assert.ok(e instanceof RowDecryptError)
    assert.equal(e.code, 'KC_DECRYPT_FAILED')
    assert.equal(e.rowId, 2)
    assert.ok(!e.message.includes('sk-acme'))
    return true
  })
  await pool.query('UPDATE dz_accounts SET api_key = webhook_secret WHERE id = 1')
  assert.throws(() => fields.open(row2), RowDecryptError)
  const row1 = await load(1)
  assert.throws(() => fields.open(row1), (e) => e instanceof RowDecryptError && e.rowId === 1 && e.field === 'dz_accounts.api_key')
})

test('an empty or NULL owner is refused on write; nothing is written', async () => {
  await fresh()
  for (const owner of [null, undefined, '']) {
    assert.throws(() => fields.seal({ id: 1, tenantId: owner, apiKey: 'sk-x' }), (e) => {
      assert.ok(e instanceof OwnerMissingError)
      assert.equal(e.code, 'KC_INVALID_OWNER')
      assert.ok(!e.message.includes('sk-x'))
      return true
    })
  }
  // A partial update naming the value but not its owner is refused too (the owner must be known).
  assert.throws(() => fields.seal({ apiKey: 'sk-x' }), OwnerMissingError)
  assert.equal((await pool.query('SELECT count(*)::int AS n FROM dz_accounts')).rows[0].n, 0)
})

test('a write that bypasses fields.seal() is refused by the column type', async () => {
  await fresh()
  await assert.rejects(
    async () => db.insert(accounts).values({ id: 9, tenantId: 'acme', apiKey: 'sk-plain' }),
    (e) => {
      // drizzle may wrap what toDriver threw; the typed error is there either way
      const err = e instanceof UnsealedWriteError ? e : e.cause
      assert.ok(err instanceof UnsealedWriteError, String(e))
      assert.equal(err.code, 'KC_INVALID_ARGUMENT')
      return true
    },
  )
  assert.equal((await pool.query('SELECT count(*)::int AS n FROM dz_accounts')).rows[0].n, 0)
})

test('legacy plaintext is reported by id, never returned, unless the column migrates it', async () => {
  await fresh()
  await db.insert(accounts).values(fields.seal({ id: 1, tenantId: 'acme', apiKey: 'sk-sealed' }))
  await pool.query("INSERT INTO dz_accounts (id, tenant_id, api_key) VALUES (7, 'acme', 'sk-legacy-plain')")
  assert.equal(fields.open(await load(1)).apiKey, 'sk-sealed')
  const legacy = await load(7)
  assert.throws(() => fields.open(legacy), (e) => {
    assert.ok(e instanceof PlaintextValueError)
    assert.equal(e.code, 'KC_MALFORMED')
    assert.equal(e.rowId, 7)
    assert.ok(!e.message.includes('sk-legacy-plain'))
    return true
  })
  const m = migrating.open(legacy)
  assert.equal(m.apiKey, 'sk-legacy-plain')
  assert.deepEqual(m.needsSealing, ['apiKey'])
  await db.update(accounts).set(migrating.seal({ tenantId: m.tenantId, apiKey: m.apiKey })).where(eq(accounts.id, 7))
  assert.equal(fields.open(await load(7)).apiKey, 'sk-legacy-plain')
})

test('keycustody rewrap over the table after a rotation leaves every row readable', async () => {
  await fresh()
  const n = 50
  const rows = []
  for (let i = 1; i <= n; i++) rows.push(fields.seal({ id: i, tenantId: `t${i % 7}`, apiKey: `sk-${i}` }))
  await db.insert(accounts).values(rows)
  const old = kr.primaryKid
  kr.rotate()
  kr = kc.Keyring.parse(kr.export())
  const env = { ...process.env, KEYCUSTODY_KEYRING: kr.export() }
  delete env.KEYCUSTODY_KEYRING_FILE
  const out = execFileSync(cli, ['rewrap', '--db', url, '--table', 'dz_accounts', '--owner-column', 'tenant_id',
    '--column', 'api_key', '--context', fields.contexts.apiKey, '--json'], { env, encoding: 'utf8' })
  assert.equal(JSON.parse(out).rewritten, n)
  kr.retire(old)
  const all = (await db.select().from(accounts).orderBy(asc(accounts.id))).map(fields.open)
  assert.deepEqual(all.map((r) => r.apiKey), Array.from({ length: n }, (_, i) => `sk-${i + 1}`))
  for (const r of (await pool.query('SELECT api_key FROM dz_accounts')).rows) {
    assert.equal(kc.inspect(r.api_key).kid, kr.primaryKid)
  }
})
