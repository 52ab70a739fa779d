// Behaviour of the public API, success and failure paths.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import util from 'node:util'
import { kc, throwsKc, rejectsKc, hex } from './helpers.mjs'

const { Keyring } = kc
const ROOT_A = hex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f')

test('seal/open round-trip: strings, Buffers and Uint8Arrays are the same bytes', () => {
  const k = Keyring.generate()
  const env = k.seal('tenant-1', 'sk-or-v1-abc', 'openrouter_key')
  assert.match(env, /^kc1\.[A-Za-z0-9_-]+$/)
  assert.equal(k.openText('tenant-1', env, 'openrouter_key'), 'sk-or-v1-abc')
  assert.deepEqual(k.open('tenant-1', env, Buffer.from('openrouter_key')), Buffer.from('sk-or-v1-abc'))
  assert.deepEqual(k.open('tenant-1', env, new TextEncoder().encode('openrouter_key')), Buffer.from('sk-or-v1-abc'))
  const bin = new Uint8Array([0, 1, 2, 255])
  const e2 = k.seal('tenant-1', bin)
  const out = k.open('tenant-1', e2)
  assert.ok(Buffer.isBuffer(out))
  assert.deepEqual([...out], [0, 1, 2, 255])
  // No context, empty context, undefined and null are the same (empty) context.
  assert.deepEqual(k.open('tenant-1', e2, ''), out)
  assert.deepEqual(k.open('tenant-1', e2, undefined), out)
  assert.deepEqual(k.open('tenant-1', e2, null), out)
  assert.deepEqual(k.open('tenant-1', e2, Buffer.alloc(0)), out)
  // An empty plaintext is allowed.
  assert.equal(k.openText('t', k.seal('t', '')), '')
  // A Buffer that is a view into a larger ArrayBuffer contributes only its own bytes.
  const big = Buffer.from('xxhelloxx')
  assert.equal(k.openText('t', k.seal('t', big.subarray(2, 7))), 'hello')
})

test('envelopes are bound to owner, context and key: one error, DecryptFailed', () => {
  const k = Keyring.generate()
  const env = k.seal('tenant-1', 'secret', 'field_a')
  throwsKc(() => k.open('tenant-2', env, 'field_a'), 'DecryptFailed')
  throwsKc(() => k.open('tenant-1', env, 'field_b'), 'DecryptFailed')
  throwsKc(() => k.open('tenant-1', env), 'DecryptFailed')
  throwsKc(() => Keyring.generate().open('tenant-1', env, 'field_a'), 'DecryptFailed')
  // Flip one bit of the tag.
  const raw = Buffer.from(env.slice(4), 'base64url')
  raw[raw.length - 1] ^= 1
  throwsKc(() => k.open('tenant-1', 'kc1.' + raw.toString('base64url'), 'field_a'), 'DecryptFailed')
  // Two seals of the same value differ (random nonce).
  assert.notEqual(k.seal('t', 'x'), k.seal('t', 'x'))
})

test('malformed envelopes', () => {
  const k = Keyring.generate()
  for (const bad of ['', 'kc1.', 'kc2.AQAA', 'kc1.!!!!', 'kc1.AAAA', 'KC1.AQAAAAE', 'kc1.' + 'A'.repeat(10)]) {
    throwsKc(() => k.open('t', bad), 'Malformed')
    throwsKc(() => kc.inspect(bad), 'Malformed')
    throwsKc(() => k.needsRewrap(bad), 'Malformed')
    throwsKc(() => k.rewrap('t', bad), 'Malformed')
  }
})

test('inspect reads the header without a key', () => {
  const k = Keyring.fromSecret(ROOT_A, 7)
  const env = k.seal('t', Buffer.alloc(1000))
  assert.deepEqual(kc.inspect(env), { version: 1, kid: 7, plaintextLen: 1000 })
})

test('rotation: add, promote, rewrap, retire, remove', () => {
  const k = Keyring.generate()
  assert.equal(k.primaryKid, 1)
  const old = k.seal('t', 'v', 'c')
  const kid2 = k.addKey()
  assert.equal(kid2, 2)
  // Added keys do not seal until promoted.
  assert.equal(k.primaryKid, 1)
  assert.deepEqual(k.kids().map((i) => [i.kid, i.state]), [[1, 'active'], [2, 'decrypt-only']])
  k.promote(kid2)
  assert.equal(k.primaryKid, 2)
  assert.deepEqual(k.kids().map((i) => [i.kid, i.state]), [[1, 'decrypt-only'], [2, 'active']])
  assert.equal(k.needsRewrap(old), true)
  const fresh = k.rewrap('t', old, 'c')
  assert.equal(kc.inspect(fresh).kid, 2)
  assert.equal(k.needsRewrap(fresh), false)
  assert.equal(k.rewrap('t', fresh, 'c'), fresh, 'rewrap of a current envelope returns it unchanged')
  throwsKc(() => k.rewrap('t', old, 'wrong'), 'DecryptFailed')
  throwsKc(() => k.rewrap('t', fresh, 'wrong'), 'DecryptFailed')
  // Retire: the old envelope no longer opens; the error names the kid.
  let e = throwsKc(() => k.retire(2), 'PrimaryKey')
  assert.equal(e.kid, 2)
  k.retire(1)
  e = throwsKc(() => k.open('t', old, 'c'), 'KeyRetired')
  assert.equal(e.kid, 1)
  throwsKc(() => k.rewrap('t', old, 'c'), 'KeyRetired')
  e = throwsKc(() => k.promote(1), 'KeyRetired')
  assert.equal(e.kid, 1)
  assert.deepEqual(k.kids().map((i) => [i.kid, i.state]), [[1, 'retired'], [2, 'active']])
  assert.equal(k.openText('t', fresh, 'c'), 'v')
  // Remove leaves a retired tombstone, so the kid is never issued again (finding 4).
  k.remove(1)
  e = throwsKc(() => k.open('t', old, 'c'), 'KeyRetired')
  assert.equal(e.kid, 1)
  k.remove(1)
  throwsKc(() => k.remove(99), 'UnknownKey')
  throwsKc(() => k.retire(99), 'UnknownKey')
  throwsKc(() => k.promote(99), 'UnknownKey')
  throwsKc(() => k.remove(2), 'PrimaryKey')
  // rotate = add + promote
  assert.equal(k.rotate(), 3)
  assert.equal(k.primaryKid, 3)
})

test('export and parse round-trip; fingerprints identify keys', () => {
  const k = Keyring.generate()
  k.rotate()
  const text = k.export()
  const j = JSON.parse(text)
  assert.equal(j.version, 1)
  assert.equal(j.primary, 2)
  assert.equal(j.keys.length, 2)
  const k2 = Keyring.parse(text)
  assert.deepEqual(k2.kids(), k.kids())
  assert.match(k.kids()[0].fingerprint, /^[0-9a-f]{16}$/)
  assert.notEqual(k.kids()[0].fingerprint, k.kids()[1].fingerprint)
  const env = k.seal('t', 'x')
  assert.equal(k2.openText('t', env), 'x')
  throwsKc(() => Keyring.parse('{}'), 'Malformed')
  throwsKc(() => Keyring.parse('not json'), 'Malformed')
  throwsKc(() => Keyring.parse(''), 'Malformed')
  throwsKc(() => Keyring.parse(' '.repeat(1024 * 1024 + 1)), 'TooLarge')
})

test('printing a keyring or an error never shows a secret', () => {
  const k = Keyring.fromSecret('s'.repeat(40))
  const secretB64 = Buffer.from('s'.repeat(40)).toString('base64url')
  for (const shown of [util.inspect(k, { showHidden: true, depth: 5 }), String(k), JSON.stringify(k) ?? '']) {
    assert.ok(!shown.includes(secretB64), 'keyring printed its secret')
    assert.ok(!shown.includes('s'.repeat(40)))
  }
  const e = throwsKc(() => k.open('tenant-marker', 'kc1.' + 'A'.repeat(60), 'ctx-marker'), 'Malformed')
  const text = util.inspect(e) + JSON.stringify(e) + e.message
  assert.ok(!text.includes('tenant-marker') && !text.includes('ctx-marker'))
})

test('fromSecret takes the bytes exactly as given', () => {
  const s = 'an-existing-platform-secret-of-40-bytes!'
  assert.equal(s.length, 40)
  const a = Keyring.fromSecret(s)
  const b = Keyring.fromSecret(Buffer.from(s))
  assert.equal(a.primaryKid, 1)
  assert.equal(b.openText('t', a.seal('t', 'x')), 'x')
  assert.equal(Keyring.fromSecret(ROOT_A, 5).primaryKid, 5)
  throwsKc(() => Keyring.fromSecret('short'), 'InvalidArgument')
  throwsKc(() => Keyring.fromSecret(Buffer.alloc(31)), 'InvalidArgument')
  throwsKc(() => Keyring.fromSecret(Buffer.alloc(1025)), 'InvalidArgument')
  throwsKc(() => Keyring.fromSecret(ROOT_A, 0), 'InvalidArgument')
  // A hex string is NOT decoded: it is 64 bytes of text, a different key.
  const h = Keyring.fromSecret(ROOT_A.toString('hex'))
  throwsKc(() => h.open('t', Keyring.fromSecret(ROOT_A).seal('t', 'x')), 'DecryptFailed')
})

test('fromEnv reads KEYCUSTODY_KEYRING or a named variable', () => {
  const k = Keyring.generate()
  const text = k.export()
  const env = k.seal('t', 'x')
  process.env.KC_NODE_TEST_KEYRING = text
  try {
    assert.equal(Keyring.fromEnv('KC_NODE_TEST_KEYRING').openText('t', env), 'x')
  } finally {
    delete process.env.KC_NODE_TEST_KEYRING
  }
  throwsKc(() => Keyring.fromEnv('KC_NODE_TEST_KEYRING'), 'MissingEnvVar')
  const saved = process.env.KEYCUSTODY_KEYRING
  process.env.KEYCUSTODY_KEYRING = text
  try {
    assert.equal(Keyring.fromEnv().openText('t', env), 'x')
    process.env.KEYCUSTODY_KEYRING = '{"version":2,"primary":1,"keys":[]}'
    throwsKc(() => Keyring.fromEnv(), 'Malformed')
  } finally {
    if (saved === undefined) delete process.env.KEYCUSTODY_KEYRING
    else process.env.KEYCUSTODY_KEYRING = saved
  }
})

test('fromFile refuses group/other-readable files', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kc-node-'))
  try {
    const k = Keyring.generate()
    const file = path.join(dir, 'keyring.json')
    fs.writeFileSync(file, k.export(), { mode: 0o600 })
    fs.chmodSync(file, 0o600)
    const env = k.seal('t', 'x')
    assert.equal(Keyring.fromFile(file).openText('t', env), 'x')
    fs.chmodSync(file, 0o644)
    throwsKc(() => Keyring.fromFile(file), 'InsecurePermissions')
    fs.chmodSync(file, 0o640)
    throwsKc(() => Keyring.fromFile(file), 'InsecurePermissions')
    throwsKc(() => Keyring.fromFile(path.join(dir, 'missing.json')), 'Io')
    const bad = path.join(dir, 'bad.json')
    fs.writeFileSync(bad, 'nope', { mode: 0o600 })
    throwsKc(() => Keyring.fromFile(bad), 'Malformed')
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('deriveKey: per-owner, per-purpose, default 32 bytes', () => {
  const k = Keyring.fromSecret(ROOT_A)
  const a = k.deriveKey('webhook-signing', 'tenant-1')
  assert.ok(Buffer.isBuffer(a))
  assert.equal(a.length, 32)
  assert.deepEqual(k.deriveKey('webhook-signing', 'tenant-1', 32), a)
  assert.notDeepEqual(k.deriveKey('webhook-signing', 'tenant-2'), a)
  assert.notDeepEqual(k.deriveKey('other', 'tenant-1'), a)
  assert.equal(k.deriveKey('p', 'o', 64).length, 64)
  assert.deepEqual(k.deriveKey('p', 'o', 64).subarray(0, 32), k.deriveKey('p', 'o', 32))
  assert.equal(k.deriveKey('p', 'o', 8160).length, 8160)
  throwsKc(() => k.deriveKey('p', 'o', 0), 'InvalidArgument')
  throwsKc(() => k.deriveKey('p', 'o', 8161), 'InvalidArgument')
  throwsKc(() => k.deriveKey('', 'o'), 'InvalidArgument')
  throwsKc(() => k.deriveKey('p', ''), 'InvalidOwner')
})

test('owner limits: 1 to 1024 bytes of UTF-8', () => {
  const k = Keyring.generate()
  const max = 'é'.repeat(512) // 1024 bytes
  assert.equal(k.openText(max, k.seal(max, 'x')), 'x')
  throwsKc(() => k.seal(max + 'a', 'x'), 'InvalidOwner')
  throwsKc(() => k.seal('', 'x'), 'InvalidOwner')
  throwsKc(() => k.open('', k.seal('t', 'x')), 'InvalidOwner')
  throwsKc(() => k.rewrap('', k.seal('t', 'x')), 'InvalidOwner')
})

test('openText requires UTF-8', async () => {
  const k = Keyring.generate()
  const env = k.seal('t', Buffer.from([0xff, 0xfe, 0x00]))
  throwsKc(() => k.openText('t', env), 'Malformed')
  await rejectsKc(k.openTextAsync('t', env), 'Malformed')
  assert.deepEqual([...k.open('t', env)], [0xff, 0xfe, 0x00])
})

test('async variants resolve like their sync forms and reject with the same errors', async () => {
  const k = Keyring.generate()
  const big = Buffer.alloc(1 << 20, 7)
  const env = await k.sealAsync('t', big, 'c')
  assert.equal(typeof env, 'string')
  assert.deepEqual(k.open('t', env, 'c'), big)
  const opened = await k.openAsync('t', env, 'c')
  assert.ok(Buffer.isBuffer(opened))
  assert.deepEqual(opened, big)
  assert.equal(await k.openTextAsync('t', k.seal('t', 'héllo')), 'héllo')
  k.rotate()
  const re = await k.rewrapAsync('t', env, 'c')
  assert.equal(kc.inspect(re).kid, 2)
  assert.deepEqual(await k.openAsync('t', re, 'c'), big)
  await rejectsKc(k.openAsync('u', env, 'c'), 'DecryptFailed')
  await rejectsKc(k.openAsync('t', 'kc1.AAAA'), 'Malformed')
  await rejectsKc(k.rewrapAsync('t', env, 'x'), 'DecryptFailed')
  await rejectsKc(k.sealAsync('', 'x'), 'InvalidOwner')
  // Argument errors reject too (never throw synchronously from an async method).
  const p = k.sealAsync(42, 'x')
  assert.ok(p instanceof Promise)
  await rejectsKc(p, 'InvalidArgument', TypeError)
  // The plaintext is copied before the call returns: mutating it afterwards changes nothing.
  const buf = Buffer.from('original')
  const pending = k.sealAsync('t', buf)
  buf.fill(0)
  assert.equal(k.openText('t', await pending), 'original')
  // Many in flight at once.
  const envs = await Promise.all(Array.from({ length: 32 }, (_, i) => k.sealAsync('t', `v${i}`)))
  assert.deepEqual(envs.map((e) => k.openText('t', e)), Array.from({ length: 32 }, (_, i) => `v${i}`))
})

test('plaintext limit: 64 MiB', async () => {
  const k = Keyring.generate()
  const over = Buffer.alloc(64 * 1024 * 1024 + 1)
  const e = throwsKc(() => k.seal('t', over), 'TooLarge')
  assert.equal(e.limit, 64 * 1024 * 1024)
  await rejectsKc(k.sealAsync('t', over), 'TooLarge')
})

test('constantTimeEqual', () => {
  assert.equal(kc.constantTimeEqual('abc', 'abc'), true)
  assert.equal(kc.constantTimeEqual('abc', 'abd'), false)
  assert.equal(kc.constantTimeEqual('abc', 'abcd'), false)
  assert.equal(kc.constantTimeEqual('', ''), true)
  assert.equal(kc.constantTimeEqual(Buffer.from('abc'), 'abc'), true)
  assert.equal(kc.constantTimeEqual(new Uint8Array([1, 2]), Buffer.from([1, 2])), true)
})

test('random tokens and invite codes', () => {
  const t = kc.randomToken()
  assert.match(t, /^[0-9a-f]{64}$/)
  assert.notEqual(kc.randomToken(), t)
  assert.match(kc.randomToken(16), /^[0-9a-f]{32}$/)
  assert.match(kc.randomToken(1024), /^[0-9a-f]{2048}$/)
  assert.match(kc.randomBase62(), /^[0-9A-Za-z]{32}$/)
  assert.match(kc.randomBase62(5), /^[0-9A-Za-z]{5}$/)
  assert.match(kc.inviteCode(8), /^[ABCDEFGHJKLMNPQRSTUVWXYZ23456789]{8}$/)
  for (const f of [kc.randomToken, kc.randomBase62, kc.inviteCode]) {
    throwsKc(() => f(0), 'InvalidArgument')
    throwsKc(() => f(1025), 'InvalidArgument')
    for (const bad of [-1, 1.5, NaN, Infinity, 2 ** 53]) throwsKc(() => f(bad), 'InvalidArgument', RangeError)
    throwsKc(() => f('8'), 'InvalidArgument', TypeError)
  }
  throwsKc(() => kc.inviteCode(), 'InvalidArgument', TypeError)
  // randomString as in core, Python and wasm: uniform over a set of distinct ASCII symbols.
  assert.match(kc.randomString('abc', 40), /^[abc]{40}$/)
  for (const bad of ['a', 'abca', 'ab\u00e9']) throwsKc(() => kc.randomString(bad, 8), 'InvalidArgument')
  throwsKc(() => kc.randomString('ab', 0), 'InvalidArgument')
})

test('API keys: generate, parse, hash, verify', () => {
  const g = kc.generateApiKey('obee')
  assert.match(g.key, /^obee_[0-9A-Za-z]{36}$/)
  assert.match(g.hash, /^[0-9a-f]{64}$/)
  assert.equal(g.hint, `obee_${g.key.slice(5, 9)}…${g.key.slice(-4)}`)
  assert.deepEqual(kc.parseApiKey(g.key), { prefix: 'obee', hint: g.hint, hash: g.hash })
  assert.equal(kc.hashApiKey(g.key), g.hash)
  assert.equal(kc.verifyApiKey(g.key, g.hash), true)
  assert.equal(kc.verifyApiKey(g.key, kc.generateApiKey('obee').hash), false)
  // A typo is caught by the checksum.
  const typo = g.key.slice(0, 10) + (g.key[10] === 'a' ? 'b' : 'a') + g.key.slice(11)
  throwsKc(() => kc.parseApiKey(typo), 'Malformed')
  // A presented key that does not verify is false, malformed or not; only a bad stored hash throws.
  assert.equal(kc.verifyApiKey(typo, g.hash), false)
  assert.equal(kc.verifyApiKey('not a key', g.hash), false)
  throwsKc(() => kc.verifyApiKey(g.key, g.hash.toUpperCase()), 'Malformed')
  throwsKc(() => kc.verifyApiKey(g.key, 'abc'), 'Malformed')
  for (const p of ['', 'a', 'Obee', '1bee', 'ob-e', 'a'.repeat(17)]) throwsKc(() => kc.generateApiKey(p), 'Malformed')
  assert.match(kc.generateApiKey('a'.repeat(16)).key, /^a{16}_/)
})

test('the Keyring class has no public constructor and methods check their receiver', () => {
  assert.throws(() => new Keyring())
  assert.throws(() => Keyring.prototype.seal.call({}, 't', 'x'))
})
