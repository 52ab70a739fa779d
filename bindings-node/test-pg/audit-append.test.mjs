// The audit chain's append pattern in a dashboard's database (PostgreSQL via node-postgres `pg`,
// installed with bindings-node/drizzle's lockfile): each append is one transaction that locks
// the chain's head row (SELECT ... FOR UPDATE), builds the next entry with AuditChain.next,
// inserts it and moves the head. 4 concurrent appenders (4 connections) x 500 entries: nothing
// lost, seq contiguous, the chain verifies, a checkpoint catches a truncation, a tampered row
// is named by its seq. Run by `make test-orm` (DATABASE_URL required).
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const kc = require('../index.js')
const pg = createRequire(new URL('../drizzle/package.json', import.meta.url))('pg')
const { Keyring, AuditChain, AuditEntry } = kc

const url = process.env.DATABASE_URL ?? ''
if (!/^postgres(ql)?:\/\//.test(url)) throw new Error('DATABASE_URL (PostgreSQL) is required: run `make test-orm`')
const SCOPE = 'tenant:acme'
const APPENDERS = 4
const PER = 500
const FIELDS = new Set(['seq', 'ts', 'kid', 'op', 'names', 'route', 'actor', 'tenant', 'outcome', 'prev', 'mac'])

/** One append: transaction + lock on the head row; returns the new entry. */
async function append(client, chain, event) {
  await client.query('BEGIN')
  try {
    const { rows } = await client.query('SELECT entry FROM audit_head WHERE scope = $1 FOR UPDATE', [chain.scope])
    const prev = rows[0].entry === null ? null : AuditEntry.parse(rows[0].entry)
    const e = chain.next(prev, event)
    const text = e.toJson()
    await client.query('INSERT INTO audit_log (scope, seq, entry) VALUES ($1, $2, $3)', [chain.scope, e.seq, text])
    await client.query('UPDATE audit_head SET seq = $1, entry = $2 WHERE scope = $3', [e.seq, text, chain.scope])
    await client.query('COMMIT')
    return e
  } catch (err) {
    await client.query('ROLLBACK')
    throw err
  }
}

let pool
before(async () => {
  pool = new pg.Pool({ connectionString: url, max: APPENDERS + 1 })
})
after(async () => {
  await pool.query('DROP TABLE IF EXISTS audit_log, audit_head')
  await pool.end()
})
async function fresh() {
  await pool.query(`DROP TABLE IF EXISTS audit_log, audit_head;
    CREATE TABLE audit_head (scope text PRIMARY KEY, seq bigint NOT NULL, entry text);
    CREATE TABLE audit_log (scope text NOT NULL, seq bigint NOT NULL, entry text NOT NULL, PRIMARY KEY (scope, seq))`)
  await pool.query('INSERT INTO audit_head (scope, seq, entry) VALUES ($1, 0, NULL)', [SCOPE])
}
async function load() {
  const { rows } = await pool.query('SELECT seq::int AS seq, entry FROM audit_log WHERE scope = $1 ORDER BY seq', [SCOPE])
  return { rows, run: rows.map((r) => AuditEntry.parse(r.entry)) }
}

test('4 concurrent appenders x 500: nothing lost, seq contiguous, the chain verifies', async () => {
  await fresh()
  const kr = Keyring.generate()
  await Promise.all(Array.from({ length: APPENDERS }, async (_, i) => {
    const chain = new AuditChain(kr, SCOPE) // each app instance has its own chain object
    const client = await pool.connect()
    try {
      for (let j = 0; j < PER; j++) {
        await append(client, chain, { op: 'secret.read', names: [`rec-${i}-${j}`], actor: `instance-${i}`, tenant: 'acme', outcome: 'ok' })
      }
    } finally {
      client.release()
    }
  }))
  const n = APPENDERS * PER
  const { rows, run } = await load()
  assert.deepEqual(rows.map((r) => r.seq), Array.from({ length: n }, (_, k) => k + 1))
  const want = []
  for (let i = 0; i < APPENDERS; i++) for (let j = 0; j < PER; j++) want.push(`rec-${i}-${j}`)
  assert.deepEqual(run.flatMap((e) => e.names).sort(), want.sort())
  assert.equal(new Set(run.map((e) => e.actor)).size, APPENDERS)
  // Interleaved, not one appender after another: the lock serialises appends, not instances.
  assert.ok(new Set(run.slice(0, 100).map((e) => e.actor)).size > 1)
  const chain = new AuditChain(kr, SCOPE)
  const rep = chain.verifyRun(run)
  assert.deepEqual([rep.entries, rep.lastSeq, rep.headMac], [n, n, run[n - 1].mac])
  for (const r of rows.slice(0, 50)) for (const k of Object.keys(JSON.parse(r.entry))) assert.ok(FIELDS.has(k), k)
  const head = (await pool.query('SELECT seq::int AS seq, entry FROM audit_head WHERE scope = $1', [SCOPE])).rows[0]
  assert.deepEqual([head.seq, head.entry], [n, run[n - 1].toJson()])
  // A checkpoint kept off-host catches a truncated table (the rest still verifies by itself).
  const cp = chain.checkpoint(run[n - 1])
  await pool.query('DELETE FROM audit_log WHERE scope = $1 AND seq > $2', [SCOPE, n - 10])
  const short = (await load()).run
  const repShort = chain.verifyRun(short)
  assert.throws(() => chain.checkAgainst(cp, repShort), (e) => e.code === 'KC_AUDIT_BROKEN' && e.auditPosition === n - 9)
})

test('a tampered row is named by its seq', async () => {
  await fresh()
  const chain = new AuditChain(Keyring.generate(), SCOPE)
  const client = await pool.connect()
  try {
    for (let j = 0; j < 40; j++) await append(client, chain, { op: 'secret.read', names: [`OPENAI_KEY_${j}`], actor: 'user-7', tenant: 'acme' })
  } finally {
    client.release()
  }
  await pool.query(`UPDATE audit_log SET entry = replace(entry, '"actor":"user-7"', '"actor":"user-9"') WHERE scope = $1 AND seq = 17`, [SCOPE])
  const { run } = await load()
  assert.throws(() => chain.verifyRun(run), (e) => {
    assert.equal(e.code, 'KC_AUDIT_BROKEN')
    assert.equal(e.auditPosition, 17)
    assert.match(e.message, /MAC mismatch/)
    assert.ok(!e.message.includes('user-9') && !e.message.includes('OPENAI_KEY'))
    return true
  })
})
