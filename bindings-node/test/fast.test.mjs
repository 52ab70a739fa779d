// index.js's Keyring fast paths (seal, open, sealBinary, openBinary through src/fast.rs) against
// the generated methods they stand in for: the same results and the same errors (code, kind,
// class, message) for the shared vectors and for garbage in every argument; keyrings from the
// factories and from native code are all `instanceof Keyring` and pass back into native calls.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import path from 'node:path'
import { kc, pkgDir } from './helpers.mjs'
import { readVectors } from '../../tests/js/node-host.mjs'

const { Keyring, TenantKeyringCache } = kc
const generated = Object.getPrototypeOf(Keyring.prototype)
const fromHex = (h) => Buffer.from(h, 'hex')

// What a call did: its result (as hex, Buffer-ness kept) or its error's identity.
function outcome(f) {
  try {
    const v = f()
    if (typeof v === 'string') return `string:${v}`
    return `${Buffer.isBuffer(v) ? 'Buffer' : typeof v}:${Buffer.from(v).toString('hex')}`
  } catch (e) {
    return `throw:${e.constructor.name}:${e.code}:${e.kind}:${e.malformedKind ?? ''}:${e.message}`
  }
}
const bothPaths = (k, name, args) => [outcome(() => k[name](...args)), outcome(() => generated[name].apply(k, args))]

test('the factories make keyrings that take the fast paths', () => {
  const secret = Buffer.alloc(32, 7)
  for (const k of [Keyring.generate(), Keyring.parse(Keyring.generate().export()), Keyring.fromSecret(secret), Keyring.fromSecret('x'.repeat(32), 3)]) {
    assert.ok(k instanceof Keyring)
    assert.equal(Object.getPrototypeOf(k), Keyring.prototype)
    assert.equal(Object.getOwnPropertySymbols(k).length, 1, 'the handle')
    assert.deepEqual(Object.keys(k), [])
  }
  process.env.KC_FAST_TEST_KEYRING = Keyring.fromSecret(secret).export()
  assert.equal(Object.getPrototypeOf(Keyring.fromEnv('KC_FAST_TEST_KEYRING')), Keyring.prototype)
  delete process.env.KC_FAST_TEST_KEYRING
})

test('open and openBinary: the fast paths give the generated results on every envelope vector', () => {
  let n = 0
  for (const c of readVectors()['envelope_v1.json'].cases) {
    if (c.op !== 'open') continue
    const k = Keyring.parse(c.keyring)
    const ctx = fromHex(c.context_hex ?? '')
    const [fast, gen] = bothPaths(k, 'open', [c.owner, c.envelope, ctx])
    assert.equal(fast, gen, c.name)
    if (c.expect === 'ok') assert.equal(fast, `Buffer:${c.plaintext_hex}`, c.name)
    if (c.envelope.startsWith('kc1.')) {
      let bin = null
      try {
        bin = Buffer.from(c.envelope.slice(4), 'base64url')
      } catch {}
      if (bin) assert.deepEqual(...bothPaths(k, 'openBinary', [c.owner, bin, ctx]), c.name)
    }
    n++
  }
  assert.ok(n > 20)
})

test('seal and sealBinary: the fast paths seal what the generated open opens', () => {
  const k = Keyring.generate()
  for (const p of [Buffer.alloc(0), Buffer.from('x'), Buffer.alloc(64, 1), new Uint8Array(1000).fill(2), 'text', '']) {
    for (const ctx of [undefined, null, 'ctx', Buffer.from('c'), new Uint8Array(0)]) {
      const text = k.seal('tenant', p, ctx)
      assert.deepEqual(generated.open.call(k, 'tenant', text, ctx), Buffer.from(p))
      const bin = k.sealBinary('tenant', p, ctx)
      assert.ok(Buffer.isBuffer(bin))
      assert.deepEqual(generated.openBinary.call(k, 'tenant', bin, ctx), Buffer.from(p))
      assert.deepEqual(k.openBinary('tenant', generated.sealBinary.call(k, 'tenant', p, ctx), ctx), Buffer.from(p))
      assert.deepEqual(k.open('tenant', generated.seal.call(k, 'tenant', p, ctx), ctx), Buffer.from(p))
    }
  }
})

test('plaintext results own their backing store (never a pool slice)', () => {
  const k = Keyring.generate()
  for (const n of [0, 1, 63, 64, 65, 4096, 70000]) {
    const p = Buffer.alloc(n, 0x5a)
    for (const got of [k.open('t', k.seal('t', p)), k.openBinary('t', k.sealBinary('t', p))]) {
      assert.deepEqual(got, p)
      // Never a slice of Node's shared pool (or of anything else): `.buffer` is this plaintext.
      assert.equal(got.byteOffset, 0, `${n}`)
      assert.equal(got.buffer.byteLength, n, `${n}`)
    }
    // sealBinary's result is ciphertext and may be a slice of the pool (index.js).
    const bin = k.sealBinary('t', p)
    assert.deepEqual(generated.openBinary.call(k, 't', bin), p)
    if (n >= 16) assert.equal(bin.indexOf(p.subarray(0, 16)), -1, 'no plaintext in the envelope')
  }
})

test('garbage in every argument: the fast paths throw what the generated methods throw', () => {
  const k = Keyring.generate()
  const env = k.seal('t', 'secret', 'c')
  const bin = k.sealBinary('t', Buffer.from('secret'), 'c')
  const junk = [undefined, null, 0, 42, -1, 1.5, NaN, true, {}, [], [1, 2], () => 1, Symbol('s'), 10n, '',
    'lone \uD800', '\uDFFF', 'é', new Uint16Array(4), new Float64Array(2), new DataView(new ArrayBuffer(8)),
    new ArrayBuffer(8), Buffer.alloc(0), Buffer.alloc(32), new Uint8Array(40), 'kc1.', 'kc1.AAAA', env, env.slice(0, -1),
    env + 'A', bin.subarray(0, 10), bin, new Date(0)]
  const good = {
    seal: ['t', 'secret', 'c'],
    open: ['t', env, 'c'],
    sealBinary: ['t', Buffer.from('secret'), 'c'],
    openBinary: ['t', bin, 'c'],
  }
  let n = 0
  for (const [name, args] of Object.entries(good)) {
    for (let i = 0; i < args.length; i++) {
      for (const j of junk) {
        const a = args.slice()
        a[i] = j
        const [fast, gen] = bothPaths(k, name, a)
        if (name.startsWith('seal') && fast.startsWith('string:') && gen.startsWith('string:')) continue // random nonces
        if (name.startsWith('seal') && fast.startsWith('Buffer:') && gen.startsWith('Buffer:')) {
          assert.equal(fast.length, gen.length)
          continue
        }
        assert.equal(fast, gen, `${name} argument ${i} = ${String(typeof j === 'symbol' ? 'symbol' : j).slice(0, 40)}`)
        n++
      }
    }
  }
  assert.ok(n > 100)
  // Fewer arguments, and calls on objects that are not keyrings.
  for (const name of Object.keys(good)) {
    assert.equal(...bothPaths(k, name, []))
    assert.equal(...bothPaths(k, name, ['t']))
    assert.throws(() => Keyring.prototype[name].call({}, ...good[name]), TypeError)
  }
})

test('keyrings made by native code are instanceof Keyring and pass back into native calls', () => {
  const a = Keyring.generate()
  const c = new TenantKeyringCache(2, 10)
  const got = c.insert('a', a, 100)
  assert.ok(got instanceof Keyring)
  assert.ok(a instanceof Keyring)
  assert.ok(!({} instanceof Keyring))
  const env = a.seal('t', 'hello')
  assert.equal(got.openText('t', env), 'hello')
  assert.equal(got.open('t', env).toString(), 'hello')
  // The JS keyring goes back into native code (the generated method checks its receiver).
  const k2 = c.insert('b', c.get('a', 101), 101)
  assert.equal(k2.openText('t', a.seal('t', 'again')), 'again')
  // A rotation through either the object or its handle is one keyring.
  const kid = a.rotate()
  assert.equal(kc.inspect(a.seal('t', 'x')).kid, kid)
})

test('open: envelope texts of every length give the generated results (index.js sizes by length)', () => {
  const k = Keyring.generate()
  const env = k.seal('t', Buffer.alloc(40, 3), 'c')
  const texts = []
  for (let n = 0; n <= env.length; n++) texts.push(env.slice(0, n))
  for (let m = 1; m <= 9; m++) texts.push(env + 'A'.repeat(m), 'kc1.' + 'A'.repeat(44 + m))
  let ok = 0
  for (const text of texts) {
    const [fast, gen] = bothPaths(k, 'open', ['t', text, 'c'])
    assert.equal(fast, gen, `length ${text.length}`)
    if (fast.startsWith('Buffer:')) ok++
  }
  assert.equal(ok, 1)
})

test('the size constants index.js reads from the native module are core\'s', () => {
  const native = createRequire(import.meta.url)(path.join(pkgDir, 'native.js'))
  const k = Keyring.generate()
  assert.equal(native.__keyringOverhead, k.sealBinary('t', Buffer.alloc(0)).length)
  assert.equal(native.__keyringOverhead, generated.sealBinary.call(k, 't', Buffer.alloc(5)).length - 5)
  let limit = null
  try {
    generated.sealBinary.call(k, 't', Buffer.alloc(native.__keyringMaxPlaintext + 1))
  } catch (e) {
    limit = e.limit
  }
  assert.equal(native.__keyringMaxPlaintext, limit)
  assert.equal(generated.sealBinary.call(k, 't', Buffer.alloc(native.__keyringMaxPlaintext)).length,
    native.__keyringMaxPlaintext + native.__keyringOverhead)
})

// The small path (index.js, src/fast.rs "the small path"): small calls' inputs go through this
// thread's scratch region, which keeps no input and no opened plaintext once a call returns.
test('small calls pass through the scratch region and leave no input or plaintext in it', () => {
  const native = createRequire(import.meta.url)(path.join(pkgDir, 'native.js'))
  const region = Buffer.from(native.__scratch())
  const [, , , outAt, len] = native.__scratchLayout()
  assert.equal(region.length, len)
  const inputsWiped = () => region.subarray(0, outAt).every((b) => b === 0)
  const outHolds = (b) => region.subarray(outAt).indexOf(b) !== -1
  const k = Keyring.generate()
  const p = Buffer.from(crypto.getRandomValues(new Uint8Array(64)))
  const env = k.seal('tenant-42', p, 'ctx')
  // The envelope came from the region's output part: the small path made it.
  assert.ok(outHolds(Buffer.from(env, 'latin1')))
  assert.ok(inputsWiped(), 'inputs wiped after seal')
  const bin = k.sealBinary('tenant-42', p, 'ctx')
  assert.ok(outHolds(bin))
  assert.ok(inputsWiped(), 'inputs wiped after sealBinary')
  for (const got of [k.open('tenant-42', env, 'ctx'), k.openBinary('tenant-42', bin, 'ctx')]) {
    assert.deepEqual(got, p)
    assert.ok(!outHolds(p), 'an opened plaintext is wiped from the region')
    assert.ok(inputsWiped(), 'inputs wiped after open')
  }
  // Failures: the typed errors of the regular entries, and the region left wiped.
  for (const [f, code] of [
    [() => k.open('tenant-43', env, 'ctx'), 'KC_DECRYPT_FAILED'],
    [() => k.openBinary('tenant-42', bin, 'other'), 'KC_DECRYPT_FAILED'],
    [() => k.seal('', p), 'KC_INVALID_OWNER'],
    [() => k.open('t', 'kc1.AAAA'), 'KC_MALFORMED'],
  ]) {
    assert.throws(f, { code })
    assert.ok(inputsWiped(), `inputs wiped after ${code}`)
  }
})

test('either side of the small path\'s field sizes, the fast paths give the generated results', () => {
  const k = Keyring.generate()
  const owners = ['t', 'o'.repeat(1024), 'ø'.repeat(512), 'o'.repeat(1025), 'é'.repeat(600), 'lone \uD800']
  const contexts = [undefined, Buffer.alloc(1024, 1), Buffer.alloc(1025, 1), 'ü'.repeat(512), 'ü'.repeat(513), 'x\uDFFF']
  const plaintexts = [Buffer.alloc(2048, 2), Buffer.alloc(2049, 2), 'é'.repeat(1024), 'é'.repeat(1024) + 'x', '\ufeffbom', 'y\uD800']
  let n = 0
  for (const owner of owners) {
    for (const ctx of contexts) {
      for (const p of plaintexts) {
        for (const name of ['seal', 'sealBinary']) {
          const [fast, gen] = bothPaths(k, name, [owner, p, ctx])
          if (fast.startsWith('throw') || gen.startsWith('throw')) {
            assert.equal(fast, gen, `${name} ${owner.length} ${ctx?.length} ${p.length}`)
            continue
          }
          const sealed = k[name](owner, p, ctx)
          const open = name === 'seal' ? 'open' : 'openBinary'
          assert.equal(...bothPaths(k, open, [owner, sealed, ctx]))
          assert.deepEqual(k[open](owner, sealed, ctx), Buffer.from(p))
          n++
        }
      }
    }
  }
  assert.ok(n > 50, `${n}`)
  // Envelope texts either side of the 2048-byte field: 1502 and 1503 bytes of plaintext.
  for (const size of [1500, 1501, 1502, 1503, 1504]) {
    const env = k.seal('t', Buffer.alloc(size, 4))
    assert.equal(...bothPaths(k, 'open', ['t', env]))
    assert.equal(...bothPaths(k, 'open', ['t', env.slice(0, -1)]))
  }
})

test('a worker thread has its own scratch region: small calls there agree with the main thread', async () => {
  const { Worker } = await import('node:worker_threads')
  const k = Keyring.generate()
  const w = new Worker(`
    const { parentPort, workerData } = require('node:worker_threads')
    const kc = require(workerData.pkg)
    const k = kc.Keyring.parse(workerData.keyring)
    const out = []
    for (let i = 0; i < 200; i++) out.push(k.seal('w-' + i, 'from the worker ' + i, 'c'))
    parentPort.postMessage({ out, opened: k.open('main', workerData.env, 'c').toString() })
  `, { eval: true, workerData: { pkg: pkgDir, keyring: k.export(), env: k.seal('main', 'from main', 'c') } })
  // Meanwhile this thread makes small calls of its own.
  for (let i = 0; i < 200; i++) assert.equal(k.open('m', k.seal('m', `m ${i}`)).toString(), `m ${i}`)
  const got = await new Promise((resolve, reject) => {
    w.once('message', resolve)
    w.once('error', reject)
  })
  await w.terminate()
  assert.equal(got.opened, 'from main')
  got.out.forEach((env, i) => assert.equal(k.open(`w-${i}`, env, 'c').toString(), `from the worker ${i}`))
})

test('hostile arguments (re-entering Proxies, disguised and detached arrays): the generated results, the right owner', () => {
  const k = Keyring.generate()
  const env = k.seal('t', 'secret', 'c')
  const bin = k.sealBinary('t', Buffer.from('secret'), 'c')
  // Every trap makes a small call of its own before answering.
  const reenter = () => k.open('inner', k.seal('inner', Buffer.alloc(8, 9)))
  const proxy = new Proxy(new Uint8Array(4), {
    getPrototypeOf: () => (reenter(), Uint8Array.prototype),
    get: (t, p) => (reenter(), Reflect.get(t, p)),
  })
  const disguised = Object.setPrototypeOf(new Uint16Array([0x4142, 0x4344]), Uint8Array.prototype)
  const detached = new Uint8Array(8)
  structuredClone(detached.buffer, { transfer: [detached.buffer] })
  const calls = (v) => [
    ['seal', ['t', v, 'c']], ['seal', ['t', 'p', v]],
    ['sealBinary', ['t', v, 'c']], ['sealBinary', ['t', Buffer.from('p'), v]],
    ['open', ['t', env, v]], ['openBinary', ['t', v, 'c']], ['openBinary', ['t', bin, v]],
  ]
  let n = 0
  for (const [label, v] of [['proxy', proxy], ['disguised', disguised], ['detached', detached]]) {
    for (const [i, [name, args]] of calls(v).entries()) {
      const [fast, gen] = bothPaths(k, name, args)
      const sealed = name.startsWith('seal') && !fast.startsWith('throw')
      assert.equal(sealed ? fast.split(':')[0] : fast, sealed ? gen.split(':')[0] : gen, `${label}: call ${i}, ${name}`)
      if (sealed) {
        // Sealed for 't' and its context, whatever ran meanwhile.
        const out = k[name](...args)
        const open = name === 'seal' ? 'open' : 'openBinary'
        assert.equal(...bothPaths(k, open, ['t', out, args[2]]))
        assert.doesNotThrow(() => generated[open].call(k, 't', out, args[2]))
        n++
      }
    }
  }
  assert.ok(n > 0)
})

test('the small-call entries refuse lengths past their fields with a typed error, and leave the region wiped', () => {
  const native = createRequire(import.meta.url)(path.join(pkgDir, 'native.js'))
  const region = Buffer.from(native.__scratch())
  const [, , , outAt] = native.__scratchLayout()
  const h = native.__keyringHandle(Keyring.generate())
  for (const lens of [[1025, 0, 0], [1, 1025, 0], [1, 0, 2049], [2 ** 32 - 1, 0, 0]]) {
    for (const f of [native.__keyringSealSmall, native.__keyringOpenSmall]) {
      // Internal entries called wrongly (index.js never does): napi's generic error, no crash.
      assert.throws(() => f(h, ...lens, false), { code: 'GenericFailure', message: 'small call input too long' })
    }
  }
  // Not UTF-8 in the owner field: Malformed (Utf8), as from any other entry.
  region[0] = 0xff
  assert.throws(() => native.__keyringSealSmall(h, 1, 0, 0, false), { code: 'KC_MALFORMED', malformedKind: 'Utf8' })
  assert.ok(region.subarray(0, outAt).every((b) => b === 0))
})
