// The napi package's Promise forms (sealAsync, openAsync, openTextAsync, rewrapAsync,
// decryptLegacyPbkdf2GcmAsync, decryptOpensslEncAsync): package-specific, so they stay here.
// They resolve like their sync forms (the shared vectors, through the shared suite's runner)
// and reject with the same errors. Their garbage and lone-surrogate coverage is in the shared
// suite (tests/js/suite/garbage.mjs), which runs every export of the package.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { kc, throwsKc, rejectsKc } from './helpers.mjs'
import { makeContext } from '../../tests/js/harness.mjs'
import { handlers, runCase } from '../../tests/js/suite/vectors.mjs'
import { legacyGcmBlob, opensslFile, LEGACY_PASSWORD } from '../../tests/js/suite/platform.mjs'
import { manifest, readVectors } from '../../tests/js/node-host.mjs'

const { Keyring } = kc
const fromHex = (h) => Buffer.from(h, 'hex')

// The vector cases of the ops that have a Promise form, each through that form.
const asyncOps = {
  'envelope_v1.json': {
    open: (c) => Keyring.parse(c.keyring).openAsync(c.owner, c.envelope, fromHex(c.context_hex ?? '')).then((pt) => {
      if (c.expect === 'ok') assert.equal(pt.toString('hex'), c.plaintext_hex)
    }),
  },
  'legacy_v1.json': {
    pbkdf2_gcm: (c) => kc.decryptLegacyPbkdf2GcmAsync(c.blob, fromHex(c.password_hex), { iterations: c.iterations }).then((pt) => {
      if (c.expect === 'ok') assert.equal(pt.toString('hex'), c.plaintext_hex)
    }),
    openssl_enc: (c) => kc.decryptOpensslEncAsync(fromHex(c.data_hex), fromHex(c.password_hex), c.iterations).then((pt) => {
      if (c.expect === 'ok') assert.equal(pt.toString('hex'), c.plaintext_hex)
    }),
  },
  'strings_v1.json': {
    seal: async (c) => {
      const k = Keyring.parse(c.keyring)
      const out = await k.sealAsync(c.owner, c.plaintext, c.context)
      if (c.expect === 'ok') assert.equal(k.openText(c.owner, out, c.context), c.plaintext)
    },
    open: (c) => Keyring.parse(c.keyring).openTextAsync(c.owner, c.envelope, c.context).then((pt) => {
      if (c.expect === 'ok') assert.equal(pt, c.plaintext)
    }),
  },
}

const ctx = makeContext({ kc, target: 'napi', runtime: 'node', manifest, host: null })
const files = readVectors()
for (const [file, ops] of Object.entries(asyncOps)) {
  test(`vectors ${file}: the Promise forms give the sync results`, async (t) => {
    const sync = handlers(kc, ctx)[file]
    let n = 0
    for (const c of files[file].cases) {
      if (!ops[c.op]) continue
      assert.ok(sync[c.op], `the sync runner has ${c.op}`)
      await t.test(c.name, () => runCase(ctx, c, ops[c.op]))
      n++
    }
    assert.ok(n > 0, `no ${file} case has a Promise form`)
  })
}

test('openTextAsync requires UTF-8', async () => {
  const k = Keyring.generate()
  const env = k.seal('t', Buffer.from([0xff, 0xfe, 0x00]))
  throwsKc(() => k.openText('t', env), 'Malformed')
  await rejectsKc(k.openTextAsync('t', env), 'Malformed')
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

test('plaintext limit: 64 MiB, async too', async () => {
  const k = Keyring.generate()
  const over = Buffer.alloc(64 * 1024 * 1024 + 1)
  await rejectsKc(k.sealAsync('t', over), 'TooLarge')
})

test('legacy import, async: blobs and files decrypt, errors reject', async () => {
  const blob = await legacyGcmBlob(2000)
  assert.equal((await kc.decryptLegacyPbkdf2GcmAsync(blob, Buffer.from(LEGACY_PASSWORD), { iterations: 2000 })).toString(), 'legacy secret')
  await rejectsKc(kc.decryptLegacyPbkdf2GcmAsync(blob, 'wrong', { iterations: 2000 }), 'DecryptFailed')
  await rejectsKc(kc.decryptLegacyPbkdf2GcmAsync(blob, LEGACY_PASSWORD, { iterations: -1 }), 'InvalidArgument', RangeError)
  const file = await opensslFile(3000)
  assert.equal((await kc.decryptOpensslEncAsync(file, LEGACY_PASSWORD, 3000)).toString(), 'legacy file')
})

test('large envelope text (an external string from 64 KiB of text on) is intact after GC', async () => {
  const v8 = await import('node:v8')
  const vm = await import('node:vm')
  v8.setFlagsFromString('--expose-gc')
  const gc = vm.runInNewContext('gc')
  const k = Keyring.generate()
  // Plaintext sizes whose text falls below, at and above the 64 KiB threshold.
  const sizes = [48 * 1024, 49137, 49138, 1 << 20]
  const made = []
  for (const n of sizes) {
    const p = Buffer.alloc(n, n & 0xff)
    made.push([p, k.seal('t', p, 'c'), await k.sealAsync('t', p, 'c')])
  }
  k.rotate()
  made.push([made[3][0], k.rewrap('t', made[3][1], 'c'), await k.rewrapAsync('t', made[3][2], 'c')])
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 20; j++) k.seal('t', made[3][0], 'c')
    gc()
    await new Promise((r) => setImmediate(r))
  }
  for (const [p, a, b] of made) {
    for (const env of [a, b]) {
      assert.ok(env.startsWith('kc1.'))
      const bin = Buffer.from(env.slice(4), 'base64url')
      assert.equal('kc1.' + bin.toString('base64url'), env)
      assert.deepEqual(k.openBinary('t', bin, 'c'), p)
      assert.deepEqual(k.open('t', env, 'c'), p)
    }
  }
})

// openAsync makes its result Buffer on the JS thread with the plaintext length a text of that
// length has, and envelope texts are read as ASCII first (anything else is read again as any
// string is): every cut, every length and every non-ASCII character must give the sync
// form's result or error, and a character whose low byte is the original one never opens.
test('openAsync and open agree on every truncation and on non-ASCII characters', async () => {
  const k = Keyring.generate()
  const outcome = async (f) => {
    try {
      const v = await f()
      return `ok:${Buffer.from(v).toString('hex')}`
    } catch (e) {
      return `${e.code}:${e.malformedKind ?? ''}:${e.constructor.name}`
    }
  }
  for (const n of [0, 1, 2, 3, 15, 16, 17, 100]) {
    const p = Buffer.alloc(n, 0x5a)
    const env = k.seal('t', p, 'c')
    assert.equal(await outcome(() => k.openAsync('t', env, 'c')), `ok:${p.toString('hex')}`)
    const texts = []
    for (let cut = 0; cut <= env.length + 2; cut++) texts.push(env.slice(0, cut) + 'AA'.slice(0, Math.max(0, cut - env.length)))
    for (const i of [4, 10, env.length - 1]) {
      for (const ch of ['é', '\uD800', '\uDFFF', String.fromCharCode(0x100 | env.charCodeAt(i)), '\uFFFD', '😀']) {
        texts.push(env.slice(0, i) + ch + env.slice(i + 1))
      }
    }
    for (const text of texts) {
      const sync = await outcome(() => k.open('t', text, 'c'))
      assert.equal(await outcome(() => k.openAsync('t', text, 'c')), sync, `openAsync of ${JSON.stringify(text)}`)
      assert.equal(await outcome(() => k.openTextAsync('t', text, 'c')), await outcome(() => k.openText('t', text, 'c')))
      if (text !== env) assert.ok(!sync.startsWith('ok:') || text === env.slice(0, text.length), `${JSON.stringify(text)} opened`)
    }
    // A lone surrogate in the envelope is refused as UTF-8, as in every string argument.
    await rejectsKc(k.openAsync('t', env.slice(0, 8) + '\uD800' + env.slice(9), 'c'), 'Malformed')
  }
  // A text that no envelope's length has, and a wrong owner with the right length.
  await rejectsKc(k.openAsync('t', 'kc1.' + 'A'.repeat(45)), 'Malformed')
  await rejectsKc(k.openAsync('u', k.seal('t', 'x')), 'DecryptFailed')
})
