// One error shape (issue 13 item 4): every thrown error carries `code` and `kind`, and the
// non-secret detail of its kind as a property, read from core's accessors — the same
// names and values as the wasm binding (Python: the snake_case attributes).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import util from 'node:util'
import { kc, throwsKc } from './helpers.mjs'

const { Keyring } = kc
const NOW = 1700000000
const DETAILS = ['kid', 'limit', 'claim', 'argument', 'malformedKind', 'envVar', 'ioKind']

/** Asserts `e` has exactly the `expected` detail properties (others absent). */
function details(e, expected) {
  for (const d of DETAILS) {
    if (d in expected) assert.equal(e[d], expected[d], d)
    else assert.equal(Object.hasOwn(e, d), false, `${d} should be absent, is ${e[d]}`)
  }
}

test('UnknownKey, KeyRetired, PrimaryKey: kid', () => {
  const k = Keyring.generate()
  const other = Keyring.fromSecret(Buffer.alloc(32, 7), 9).seal('t', 'x')
  details(throwsKc(() => k.open('t', other), 'UnknownKey'), { kid: 9 })
  details(throwsKc(() => k.retire(1), 'PrimaryKey'), { kid: 1 })
})

test('TooLarge: limit', () => {
  const e = throwsKc(() => kc.verifyStripeSignature(Buffer.alloc(16 * 1024 * 1024 + 1), 't=1,v1=00', 'whsec_a', 300, NOW), 'TooLarge')
  details(e, { limit: 16 * 1024 * 1024 })
})

test('ClaimMismatch: claim', () => {
  const k = Keyring.generate()
  const token = k.signJwt('acme', { sub: 'u', aud: 'dash' }, 600, NOW)
  const e = throwsKc(() => k.verifyJwt('acme', token, { audience: 'api', now: NOW }), 'ClaimMismatch')
  details(e, { claim: 'aud' })
  assert.equal(e.message, 'claim mismatch: aud')
})

test('InvalidArgument: argument (core text, or the name for a TypeError/RangeError)', () => {
  const e = throwsKc(() => new kc.ReplayGuard(0), 'InvalidArgument')
  assert.ok(!(e instanceof TypeError) && !(e instanceof RangeError))
  details(e, { argument: 'capacity must be 1 to 10000000 entries' })
  details(throwsKc(() => Keyring.generate().seal(42, 'x'), 'InvalidArgument', TypeError), { argument: 'owner' })
  details(throwsKc(() => kc.randomToken(1.5), 'InvalidArgument', RangeError), { argument: 'nbytes' })
})

test('Malformed: malformedKind is MalformedKind::name()', () => {
  details(throwsKc(() => kc.inspect('not an envelope'), 'Malformed'), { malformedKind: 'EnvelopePrefix' })
  details(throwsKc(() => kc.parseApiKey('kc_' + 'x'.repeat(36)), 'Malformed'), { malformedKind: 'ApiKeyChecksum' })
  details(throwsKc(() => Keyring.parse('{"version":2,"primary":1,"keys":[]}'), 'Malformed'), { malformedKind: 'KeyringVersion' })
  details(throwsKc(() => kc.verifyStandardWebhook('{}', {}, 'whsec_AAAA', 300, NOW), 'Malformed'), { malformedKind: 'WebhookHeaderMissing' })
})

test('MissingEnvVar: envVar, and the message names the variable', () => {
  const name = 'KC_ERRORS_TEST_SURELY_UNSET'
  delete process.env[name]
  const e = throwsKc(() => Keyring.fromEnv(name), 'MissingEnvVar')
  details(e, { envVar: name })
  assert.equal(e.message, `environment variable ${name} is not set`)
  const saved = process.env.KEYCUSTODY_KEYRING
  delete process.env.KEYCUSTODY_KEYRING
  try {
    const d = throwsKc(() => Keyring.fromEnv(), 'MissingEnvVar')
    details(d, { envVar: 'KEYCUSTODY_KEYRING' })
    assert.equal(d.message, 'environment variable KEYCUSTODY_KEYRING is not set')
  } finally {
    if (saved !== undefined) process.env.KEYCUSTODY_KEYRING = saved
  }
})

test('Io: ioKind', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kc-errors-'))
  try {
    details(throwsKc(() => Keyring.fromFile(path.join(dir, 'missing.json')), 'Io'), { ioKind: 'NotFound' })
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('errors without a detail carry none, and details never carry a secret', () => {
  const k = Keyring.generate()
  const env = k.seal('t1', 'sk-live-MARKER')
  const e = throwsKc(() => k.open('t2', env), 'DecryptFailed')
  details(e, {})
  const shown = `${e.message} ${util.inspect(e, { showHidden: true })} ${JSON.stringify(e)}`
  assert.ok(!shown.includes('MARKER') && !shown.includes(env.slice(4, 20)))
})
