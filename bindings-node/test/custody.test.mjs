// Custody (issue 14 item 6, DESIGN §7): tenant keyrings sealed under a keyring, wrapped
// keyrings (two-step wrap with an application KEK, passphrase wrap as Promises), the tenant
// keyring cache; garbage in the class members; no passphrase or DEK in any output.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import util from 'node:util'
import { kc, throwsKc, assertKcError } from './helpers.mjs'

const { Keyring, WrappedKeyring, PendingWrap, TenantKeyringCache } = kc
const FAST = [8, 1, 1] // Argon2id m = 8 KiB, t = 1, p = 1: the format, not the cost, under test

async function rejectsKc(p, kind, cls = Error) {
  let caught
  try {
    await p
  } catch (e) {
    caught = e
  }
  assert.ok(caught !== undefined, `expected a ${kind} rejection`)
  assertKcError(caught, kind, cls)
  return caught
}

/** An application KEK (what a GCP KMS / Vault Transit call would do): AES-256-GCM, header as AAD. */
const appKek = crypto.randomBytes(32)
function appWrap(dek, aad) {
  const iv = crypto.randomBytes(12)
  const c = crypto.createCipheriv('aes-256-gcm', appKek, iv).setAAD(aad)
  return Buffer.concat([iv, c.update(dek), c.final(), c.getAuthTag()])
}
function appUnwrap(blob, aad) {
  const d = crypto.createDecipheriv('aes-256-gcm', appKek, blob.subarray(0, 12)).setAAD(aad)
  d.setAuthTag(blob.subarray(blob.length - 16))
  return Buffer.concat([d.update(blob.subarray(12, blob.length - 16)), d.final()])
}

/** The §7 header, computed here from the spec (not by the library). */
function specHeader(type, key, owner) {
  const part = (s) => {
    const b = Buffer.from(s, 'utf8')
    const n = Buffer.alloc(4)
    n.writeUInt32BE(b.length)
    return Buffer.concat([n, b])
  }
  return Buffer.concat([Buffer.from('keycustody/v1/wrapped-keyring\0'), part(type), part(key), part(owner)])
}

function sameKeyring(a, b) {
  assert.equal(a.export(), b.export())
}

test('a tenant keyring sealed under the platform keyring opens for its tenant only', () => {
  const platform = Keyring.generate()
  const tenant = Keyring.generate()
  tenant.rotate()
  const env = platform.sealKeyring('acme', tenant)
  assert.match(env, /^kc1\./)
  const back = platform.openKeyring('acme', env)
  assert.ok(back instanceof Keyring)
  sameKeyring(back, tenant)
  // Data of the tenant sealed under its keyring opens under the reopened one.
  const data = tenant.seal('acme', 'card 4242', 'pan')
  assert.equal(back.openText('acme', data, 'pan'), 'card 4242')
  // It is an ordinary kc1 envelope with the fixed context.
  assert.equal(platform.openText('acme', env, 'keycustody/v1/keyring'), tenant.export())
  throwsKc(() => platform.openKeyring('evil', env), 'DecryptFailed')
  throwsKc(() => Keyring.generate().openKeyring('acme', env), 'DecryptFailed')
  throwsKc(() => platform.openKeyring('acme', platform.seal('acme', 'x')), 'DecryptFailed')
  throwsKc(() => platform.openKeyring('acme', platform.seal('acme', 'junk', 'keycustody/v1/keyring')), 'Malformed')
})

test('two-step wrap with an application KEK: DEK + header out, wrapped DEK in', () => {
  const kr = Keyring.generate()
  kr.rotate()
  const p = new PendingWrap(kr, 'vault-transit', 'transit/keys/platform', 'acme')
  assert.equal(p.kekType, 'vault-transit')
  assert.equal(p.kekKey, 'transit/keys/platform')
  assert.equal(p.owner, 'acme')
  const dek = p.dek
  assert.ok(Buffer.isBuffer(dek) && dek.length === 32)
  assert.notDeepEqual(dek, Buffer.alloc(32))
  assert.deepEqual(p.header, specHeader('vault-transit', 'transit/keys/platform', 'acme'))
  assert.deepEqual(p.encryptionContext, { keycustody: 'wrapped-keyring/v1', owner: 'acme' })
  // A refused wrappedDek leaves the wrap usable.
  throwsKc(() => p.finish(Buffer.alloc(0)), 'InvalidArgument')
  throwsKc(() => p.finish(Buffer.alloc(4097)), 'InvalidArgument')
  const blob = appWrap(dek, p.header)
  const w = p.finish(blob)
  assert.ok(w instanceof WrappedKeyring)
  // Finished: the DEK is gone, a second finish is refused.
  throwsKc(() => p.dek, 'InvalidArgument')
  throwsKc(() => p.header, 'InvalidArgument')
  throwsKc(() => p.finish(blob), 'InvalidArgument')

  const text = w.toText()
  const j = JSON.parse(text)
  assert.deepEqual(Object.keys(j), ['version', 'kek', 'owner', 'wrapped_dek', 'nonce', 'ciphertext'])
  assert.deepEqual(j.kek, { type: 'vault-transit', key: 'transit/keys/platform' })
  assert.equal(j.wrapped_dek, blob.toString('base64url'))
  assert.ok(kc.isWrappedKeyring(text))
  assert.ok(!kc.isWrappedKeyring(kr.export()))

  const parsed = WrappedKeyring.parse(text)
  assert.equal(parsed.toText(), text)
  assert.equal(parsed.kekType, 'vault-transit')
  assert.equal(parsed.kekKey, 'transit/keys/platform')
  assert.equal(parsed.owner, 'acme')
  assert.deepEqual(parsed.wrappedDek, blob)
  assert.deepEqual(parsed.header, specHeader('vault-transit', 'transit/keys/platform', 'acme'))
  assert.deepEqual(parsed.encryptionContext, { keycustody: 'wrapped-keyring/v1', owner: 'acme' })
  parsed.expectOwner('acme')
  throwsKc(() => parsed.expectOwner('other'), 'DecryptFailed')
  throwsKc(() => parsed.expectOwner(''), 'DecryptFailed')
  const opened = parsed.openWithDek(appUnwrap(parsed.wrappedDek, parsed.header))
  sameKeyring(opened, kr)
  // Independently: the ciphertext is AES-256-GCM(DEK, nonce, keyring text, AAD = header).
  const ct = Buffer.from(j.ciphertext, 'base64url')
  const d = crypto.createDecipheriv('aes-256-gcm', dek, Buffer.from(j.nonce, 'base64url')).setAAD(specHeader('vault-transit', 'transit/keys/platform', 'acme'))
  d.setAuthTag(ct.subarray(ct.length - 16))
  assert.equal(Buffer.concat([d.update(ct.subarray(0, ct.length - 16)), d.final()]).toString(), kr.export())

  const wrongDek = Buffer.from(dek)
  wrongDek[0] ^= 1
  throwsKc(() => parsed.openWithDek(wrongDek), 'DecryptFailed')
  throwsKc(() => parsed.openWithDek(Buffer.alloc(31)), 'DecryptFailed')
  // Another owner in the text (tenant A's keyring in tenant B's row): the header differs.
  const moved = WrappedKeyring.parse(JSON.stringify({ ...j, owner: 'other' }))
  throwsKc(() => moved.openWithDek(dek), 'DecryptFailed')
  const tampered = Buffer.from(ct)
  tampered[3] ^= 1
  throwsKc(() => WrappedKeyring.parse(JSON.stringify({ ...j, ciphertext: tampered.toString('base64url') })).openWithDek(dek), 'DecryptFailed')
})

test('the platform keyring (owner "") and refusals of PendingWrap', () => {
  const kr = Keyring.generate()
  const p = new PendingWrap(kr, 'aws-kms', 'alias/platform', '')
  assert.deepEqual(p.encryptionContext, { keycustody: 'wrapped-keyring/v1', owner: '' })
  assert.equal(p.finish(Buffer.from('blob')).owner, '')
  throwsKc(() => new PendingWrap(kr, 'passphrase', 'x', ''), 'InvalidArgument')
  throwsKc(() => new PendingWrap(kr, 'Bad Type!', 'x', ''), 'Malformed')
  throwsKc(() => new PendingWrap(kr, 'aws-kms', '', ''), 'InvalidArgument')
  throwsKc(() => new PendingWrap(kr, 'aws-kms', 'k'.repeat(2049), ''), 'InvalidArgument')
  throwsKc(() => new PendingWrap(kr, 'aws-kms', 'k', 'o'.repeat(1025)), 'InvalidOwner')
})

test('WrappedKeyring.parse refuses unknown fields, versions and KEK types, bad base64url, truncation', () => {
  const p = new PendingWrap(Keyring.generate(), 'gcp-kms', 'projects/p/keys/k', 't')
  const text = p.finish(Buffer.from('wrapped')).toText()
  const j = JSON.parse(text)
  const bad = (v, kind) => {
    const e = throwsKc(() => WrappedKeyring.parse(typeof v === 'string' ? v : JSON.stringify(v)), 'Malformed')
    assert.equal(e.malformedKind, kind)
  }
  bad({ ...j, extra: 1 }, 'WrappedKeyring')
  bad({ ...j, kek: { ...j.kek, region: 'x' } }, 'WrappedKeyring')
  bad({ ...j, version: 2 }, 'WrappedKeyringVersion')
  bad({ ...j, kek: { ...j.kek, type: 'GCP KMS' } }, 'KekType')
  bad({ ...j, nonce: 'AAAA' }, 'WrappedKeyring')
  bad({ ...j, wrapped_dek: 'not*b64u' }, 'WrappedKeyring')
  bad(text.slice(0, text.length - 5), 'WrappedKeyring')
  bad('', 'WrappedKeyring')
  throwsKc(() => WrappedKeyring.parse(' '.repeat(2 * 1024 * 1024 + 1)), 'TooLarge')
})

test('passphrase wrap and unwrap are Promises that leave the event loop running', async () => {
  const kr = Keyring.generate()
  const pending = kc.wrapWithPassphrase(kr, 'correct horse', 'acme', 16384, 2, 1)
  assert.ok(pending instanceof Promise)
  // The Argon2id work runs on the thread pool: immediates keep firing meanwhile.
  let ticks = 0
  let done = false
  const spin = () => {
    if (!done) {
      ticks++
      setImmediate(spin)
    }
  }
  setImmediate(spin)
  const w = await pending
  done = true
  assert.ok(ticks > 0, 'the event loop was blocked during the passphrase wrap')
  assert.ok(w instanceof WrappedKeyring)
  assert.equal(w.kekType, 'passphrase')
  assert.equal(w.owner, 'acme')
  assert.match(w.kekKey, /^argon2id\$v=19\$m=16384,t=2,p=1\$[A-Za-z0-9_-]{22}$/)
  // wrapped_dek = iv12 || AES-256-GCM(KEK, iv, DEK) || tag
  assert.equal(w.wrappedDek.length, 12 + 32 + 16)
  const back = await WrappedKeyring.parse(w.toText()).openWithPassphrase('correct horse')
  sameKeyring(back, kr)
  // Bytes and a string of the same UTF-8 are one passphrase.
  sameKeyring(await w.openWithPassphrase(Buffer.from('correct horse')), kr)
  const opening = w.openWithPassphrase('wrong')
  assert.ok(opening instanceof Promise)
  await rejectsKc(opening, 'DecryptFailed')
  // Default parameters: m = 65536, t = 3, p = 1.
  const dflt = await kc.wrapWithPassphrase(kr, 'p', '')
  assert.match(dflt.kekKey, /^argon2id\$v=19\$m=65536,t=3,p=1\$/)
  // Another KEK type is not a passphrase.
  const kms = new PendingWrap(kr, 'aws-kms', 'alias/k', '').finish(Buffer.from('x'))
  const e = await rejectsKc(kms.openWithPassphrase('p'), 'Malformed')
  assert.equal(e.malformedKind, 'KekType')
  await rejectsKc(kc.wrapWithPassphrase(kr, '', 'acme', ...FAST), 'InvalidArgument')
  // An argument of the wrong type rejects (never a synchronous throw).
  await rejectsKc(kc.wrapWithPassphrase({}, 'p', 'acme'), 'InvalidArgument', TypeError)
  await rejectsKc(w.openWithPassphrase(42), 'InvalidArgument', TypeError)
})

test('the tenant keyring cache: TTL, LRU, invalidate, clear, defaults', () => {
  const d = new TenantKeyringCache()
  assert.equal(d.capacity, 10000)
  assert.equal(d.ttl, 300)
  assert.equal(d.size, 0)
  const c = new TenantKeyringCache(2, 10)
  const a = Keyring.generate()
  const env = a.seal('a', 'hello')
  const got = c.insert('a', a, 100)
  assert.ok(got instanceof Keyring)
  assert.equal(c.size, 1)
  assert.equal(c.get('a', 109).openText('a', env), 'hello')
  assert.equal(c.get('a', 110), null) // expired at the TTL, and removed
  assert.equal(c.size, 0)
  c.insert('a', a, 0)
  c.insert('b', Keyring.generate(), 0)
  assert.ok(c.get('a', 1)) // b is now the least recently used
  c.insert('c', Keyring.generate(), 2)
  assert.equal(c.size, 2)
  assert.equal(c.get('b', 3), null)
  assert.ok(c.get('c', 3))
  c.invalidate('c')
  assert.equal(c.get('c', 3), null)
  c.clear()
  assert.equal(c.size, 0)
  assert.equal(c.get('nobody', 0), null)
  // The cache holds a snapshot: rotating the caller's keyring afterwards does not change it.
  const k = Keyring.generate()
  c.insert('k', k, 0)
  k.rotate()
  assert.equal(c.get('k', 0).primaryKid, 1)
  // now defaults to the clock (Unix seconds).
  const wall = new TenantKeyringCache(4, 3600)
  wall.insert('w', a)
  assert.ok(wall.get('w'))
  assert.equal(wall.get('w', Math.floor(Date.now() / 1000) + 7200), null)
  // Capacity or TTL 0 caches nothing.
  for (const z of [new TenantKeyringCache(0, 10), new TenantKeyringCache(10, 0)]) {
    assert.ok(z.insert('a', a, 0) instanceof Keyring)
    assert.equal(z.get('a', 0), null)
  }
})

// Garbage for the class members: each entry is [label, call, argument index, kind of argument].
const MARKER = 'sk-MARKER-do-not-echo-7f3a'
const G = {
  string: [42, true, { secret: MARKER }, [MARKER], 10n, () => MARKER, Buffer.from(MARKER)],
  binary: [MARKER, 42, true, { secret: MARKER }, [1, 2], 10n, new Uint32Array(2), new ArrayBuffer(4)],
  keyring: [42, MARKER, {}, { inner: MARKER }, [MARKER], Buffer.from(MARKER), null, undefined],
  int: [MARKER, true, {}, 10n],
  range: [-1, 1.5, NaN, Infinity, 2 ** 53],
}
test('garbage in every custody class member is a TypeError or RangeError that echoes nothing', () => {
  const kr = Keyring.generate()
  const w = new PendingWrap(kr, 'aws-kms', 'alias/k', 't').finish(Buffer.from('x'))
  const cache = new TenantKeyringCache(4, 10)
  const cases = [
    ['WrappedKeyring.parse', (a) => WrappedKeyring.parse(...a), [w.toText()], [['string', 0]]],
    ['WrappedKeyring#expectOwner', (a) => w.expectOwner(...a), ['t'], [['string', 0]]],
    ['WrappedKeyring#openWithDek', (a) => { try { w.openWithDek(...a) } catch (e) { if (e.kind !== 'DecryptFailed') throw e } }, [Buffer.alloc(32)], [['binary', 0]]],
    ['new PendingWrap', (a) => new PendingWrap(...a), [kr, 'aws-kms', 'k', 't'], [['keyring', 0], ['string', 1], ['string', 2], ['string', 3]]],
    ['PendingWrap#finish', (a) => new PendingWrap(kr, 'aws-kms', 'k', 't').finish(...a), [Buffer.from('x')], [['binary', 0]]],
    ['new TenantKeyringCache', (a) => new TenantKeyringCache(...a), [1, 1], [['int', 0], ['int', 1], ['range', 0], ['range', 1]]],
    ['TenantKeyringCache#get', (a) => cache.get(...a), ['t', 0], [['string', 0], ['int', 1], ['range', 1]]],
    ['TenantKeyringCache#insert', (a) => cache.insert(...a), ['t', kr, 0], [['string', 0], ['keyring', 1], ['int', 2], ['range', 2]]],
    ['TenantKeyringCache#invalidate', (a) => cache.invalidate(...a), ['t'], [['string', 0]]],
  ]
  for (const [label, call, valid, slots] of cases) {
    call(valid)
    for (const [kind, i] of slots) {
      for (const g of G[kind]) {
        const args = [...valid]
        args[i] = g
        let e
        try {
          call(args)
        } catch (err) {
          e = err
        }
        assert.ok(e, `${label} arg ${i} = ${typeof g}: no throw`)
        assertKcError(e, 'InvalidArgument', kind === 'range' ? RangeError : TypeError)
        assert.ok(!`${e.message} ${e.stack}`.includes(MARKER), `${label}: echoes the input`)
      }
    }
  }
  // Every member of the custody classes is covered here or in the shared specs / tests above.
  const members = (C) => Object.getOwnPropertyNames(C.prototype).filter((n) => n !== 'constructor').sort()
  assert.deepEqual(members(WrappedKeyring), ['encryptionContext', 'expectOwner', 'header', 'kekKey', 'kekType', 'openWithDek', 'openWithPassphrase', 'owner', 'toText', 'wrappedDek'])
  assert.deepEqual(members(PendingWrap), ['dek', 'encryptionContext', 'finish', 'header', 'kekKey', 'kekType', 'owner'])
  assert.deepEqual(members(TenantKeyringCache), ['capacity', 'clear', 'get', 'insert', 'invalidate', 'size', 'ttl'])
})

test('no passphrase or DEK appears in any error, inspect or JSON output', async () => {
  const PASS = `pass-${MARKER}`
  const kr = Keyring.generate()
  const p = new PendingWrap(kr, 'aws-kms', `arn:aws:kms:eu-west-1:111122223333:key/${MARKER}`, 'acme')
  const dek = p.dek
  const needles = [MARKER, Buffer.from(MARKER).toString('hex'), Buffer.from(MARKER).toString('base64url').slice(0, 12), dek.toString('hex'), dek.toString('base64url'), dek.toString('base64')]
  const clean = (what, s) => {
    for (const n of needles) assert.ok(!String(s).includes(n), `${what} leaks ${n}: ${s}`)
  }
  const shows = (what, v) => {
    clean(`${what} inspect`, util.inspect(v, { showHidden: true, depth: 5 }))
    clean(`${what} JSON`, JSON.stringify(v) ?? '')
    clean(`${what} String`, String(v))
  }
  const errs = []
  const fail = async (what, f) => {
    try {
      await f()
    } catch (e) {
      errs.push([what, e])
      return
    }
    assert.fail(`${what}: expected a failure`)
  }
  shows('pending', p)
  const w = p.finish(Buffer.from('blob'))
  shows('wrapped', w)
  const cache = new TenantKeyringCache(4, 10)
  cache.insert('acme', kr, 0)
  shows('cache', cache)
  const pw = await kc.wrapWithPassphrase(kr, PASS, 'acme', ...FAST)
  shows('passphrase-wrapped', pw)
  await fail('wrong passphrase', () => pw.openWithPassphrase(`${PASS}x`))
  await fail('passphrase as owner', () => kc.wrapWithPassphrase(kr, PASS, 'o'.repeat(1025) + PASS, ...FAST))
  await fail('passphrase over the limit', () => kc.wrapWithPassphrase(kr, PASS.repeat(5000), 'acme', ...FAST))
  await fail('passphrase in a wrong slot', () => kc.wrapWithPassphrase(kr, PASS, 'acme', PASS))
  await fail('passphrase as wrong type', () => pw.openWithPassphrase({ p: PASS }))
  await fail('wrong dek', () => w.openWithDek(Buffer.concat([dek.subarray(1), Buffer.from([0])])))
  await fail('dek as text', () => w.openWithDek(dek.toString('hex')))
  await fail('dek as wrapped text', () => WrappedKeyring.parse(`{"version":1,"dek":"${dek.toString('hex')}"}`))
  await fail('dek after finish', () => p.dek)
  await fail('finish with the dek as string', () => new PendingWrap(kr, 'aws-kms', 'k', '').finish(dek.toString('hex')))
  assert.ok(errs.length >= 10)
  for (const [what, e] of errs) {
    assert.ok(typeof e.code === 'string' && e.code.startsWith('KC_'), `${what}: ${e.message}`)
    clean(`${what} message`, e.message)
    clean(`${what} stack`, e.stack)
    clean(`${what} inspect`, util.inspect(e, { showHidden: true, depth: 5 }))
    clean(`${what} JSON`, JSON.stringify(e))
  }
})
