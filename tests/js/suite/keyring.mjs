// The keyring / envelope API and the free functions, success and failure paths (formerly
// bindings-node/test/api.test.mjs and the Keyring / free-function parts of
// bindings-wasm/test/node.test.mjs). Node-only pieces (fromEnv, fromFile) run where the
// manifest lists them and the host has a file system.
import { assert, utf8, toHex, fromHex, b64url, fromB64, concat, filled } from '../harness.mjs'

const ROOT_A = fromHex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f')

export default function register(test, ctx) {
  const { kc, throwsKc, isBytes, has, host } = ctx
  const { Keyring } = kc
  const same = (a, b, msg) => assert.equal(toHex(a), toHex(b), msg)

  test('seal/open round trip: strings and byte plaintexts and contexts are the same bytes', () => {
    const k = Keyring.generate()
    assert.equal(k.primaryKid, 1)
    const env = k.seal('tenant-1', 'sk-or-v1-abc', 'openrouter_key')
    assert.match(env, /^kc1\.[A-Za-z0-9_-]+$/)
    assert.equal(k.openText('tenant-1', env, 'openrouter_key'), 'sk-or-v1-abc')
    // A string context is its UTF-8 bytes.
    const opened = k.open('tenant-1', env, utf8('openrouter_key'))
    assert.ok(isBytes(opened), `open returns a ${ctx.conv.bytes_class}`)
    same(opened, utf8('sk-or-v1-abc'))
    const bin = new Uint8Array([0, 1, 2, 255])
    const e2 = k.seal('tenant-1', bin)
    const out = k.open('tenant-1', e2)
    assert.deepEqual([...out], [0, 1, 2, 255])
    // No context, empty context, undefined and null are the same (empty) context.
    for (const c of ['', undefined, null, new Uint8Array(0)]) same(k.open('tenant-1', e2, c), out)
    // An empty plaintext is allowed; non-ASCII text round-trips.
    assert.equal(k.openText('t', k.seal('t', '')), '')
    assert.equal(k.open('t', k.seal('t', '')).length, 0)
    assert.equal(k.openText('tenant-ü', k.seal('tenant-ü', 'ключ 🔑')), 'ключ 🔑')
    // A view into a larger buffer contributes only its own bytes.
    const big = utf8('xxhelloxx')
    assert.equal(k.openText('t', k.seal('t', big.subarray(2, 7))), 'hello')
    // Each seal uses a fresh nonce.
    assert.notEqual(k.seal('t', 'x'), k.seal('t', 'x'))
  })

  test('wrong owner, context, key or a flipped bit is one error: DecryptFailed', () => {
    const k = Keyring.generate()
    const env = k.seal('tenant-1', 'secret-value', 'field_a')
    throwsKc(() => k.open('tenant-2', env, 'field_a'), 'DecryptFailed')
    throwsKc(() => k.open('tenant-1', env, 'field_b'), 'DecryptFailed')
    throwsKc(() => k.open('tenant-1', env), 'DecryptFailed')
    throwsKc(() => Keyring.generate().open('tenant-1', env, 'field_a'), 'DecryptFailed')
    // Flip one bit of the tag (text and binary forms).
    const raw = fromB64(env.slice(4))
    raw[raw.length - 1] ^= 1
    throwsKc(() => k.open('tenant-1', 'kc1.' + b64url(raw), 'field_a'), 'DecryptFailed')
    const bin = k.sealBinary('tenant-1', 'secret-value', 'ctx')
    bin[bin.length - 1] ^= 1
    throwsKc(() => k.openBinary('tenant-1', bin, 'ctx'), 'DecryptFailed')
    const e = throwsKc(() => k.open('tenant-2', env, 'field_a'), 'DecryptFailed')
    assert.ok(!e.message.includes('secret-value') && !e.message.includes('tenant'))
    assert.equal(e.kid, undefined)
  })

  test('malformed envelopes', () => {
    const k = Keyring.generate()
    for (const bad of ['', 'kc1.', 'kc2.AQAA', 'kc2.AAAA', 'kc1.!!!!', 'kc1.AAAA', 'KC1.AQAAAAE', 'kc1.' + 'A'.repeat(10)]) {
      throwsKc(() => k.open('t', bad), 'Malformed')
      throwsKc(() => kc.inspect(bad), 'Malformed')
      throwsKc(() => k.needsRewrap(bad), 'Malformed')
      throwsKc(() => k.rewrap('t', bad), 'Malformed')
    }
    throwsKc(() => k.openBinary('t', new Uint8Array(3)), 'Malformed')
  })

  test('inspect and inspectBinary read the header without a key', () => {
    const k = Keyring.fromSecret(ROOT_A, 7)
    assert.deepEqual(kc.inspect(k.seal('t', new Uint8Array(1000))), { version: 1, kid: 7, plaintextLen: 1000 })
    const kr = Keyring.generate()
    kr.rotate()
    assert.deepEqual(kc.inspect(kr.seal('t', 'abc')), { version: 1, kid: 2, plaintextLen: 3 })
    assert.deepEqual(kc.inspectBinary(kr.sealBinary('t', 'abcd')), { version: 1, kid: 2, plaintextLen: 4 })
    throwsKc(() => kc.inspect('nope'), 'Malformed')
    throwsKc(() => kc.inspectBinary(new Uint8Array(5)), 'Malformed')
  })

  test('rotation: add, promote, rewrap, retire, remove, stateOf', () => {
    const k = Keyring.generate()
    assert.equal(k.primaryKid, 1)
    const old = k.seal('t', 'v', 'c')
    const kid2 = k.addKey()
    assert.equal(kid2, 2)
    // Added keys do not seal until promoted.
    assert.equal(k.primaryKid, 1)
    assert.equal(k.stateOf(2), 'decrypt-only')
    assert.equal(kc.inspect(k.seal('t', 'v')).kid, 1)
    assert.deepEqual(k.kids().map((i) => [i.kid, i.state]), [[1, 'active'], [2, 'decrypt-only']])
    k.promote(kid2)
    assert.equal(k.primaryKid, 2)
    assert.deepEqual(k.kids().map((i) => [i.kid, i.state]), [[1, 'decrypt-only'], [2, 'active']])
    assert.match(k.kids()[0].fingerprint, /^[0-9a-f]{16}$/)
    assert.equal(k.needsRewrap(old), true)
    const fresh = k.rewrap('t', old, 'c')
    assert.equal(kc.inspect(fresh).kid, 2)
    assert.equal(k.needsRewrap(fresh), false)
    assert.equal(k.rewrap('t', fresh, 'c'), fresh, 'rewrap of a current envelope returns it unchanged')
    throwsKc(() => k.rewrap('t', old, 'wrong'), 'DecryptFailed')
    throwsKc(() => k.rewrap('t', fresh, 'wrong'), 'DecryptFailed')
    // Retire: the old envelope no longer opens; the error names the kid.
    assert.equal(throwsKc(() => k.retire(2), 'PrimaryKey').kid, 2)
    throwsKc(() => k.remove(2), 'PrimaryKey')
    k.retire(1)
    assert.equal(k.stateOf(1), 'retired')
    assert.equal(throwsKc(() => k.open('t', old, 'c'), 'KeyRetired').kid, 1)
    throwsKc(() => k.rewrap('t', old, 'c'), 'KeyRetired')
    assert.equal(throwsKc(() => k.promote(1), 'KeyRetired').kid, 1)
    assert.deepEqual(k.kids().map((i) => [i.kid, i.state]), [[1, 'retired'], [2, 'active']])
    assert.equal(k.openText('t', fresh, 'c'), 'v')
    // Remove leaves a retired tombstone, so the kid is never issued again (finding 4).
    k.remove(1)
    assert.equal(throwsKc(() => k.open('t', old, 'c'), 'KeyRetired').kid, 1)
    assert.equal(k.stateOf(1), 'retired')
    k.remove(1)
    throwsKc(() => k.remove(99), 'UnknownKey')
    throwsKc(() => k.retire(99), 'UnknownKey')
    throwsKc(() => k.promote(99), 'UnknownKey')
    throwsKc(() => k.stateOf(9), 'UnknownKey')
    // rotate = add + promote
    assert.equal(k.rotate(), 3)
    assert.equal(k.primaryKid, 3)
  })

  test('addKeyWithSecret adopts an existing secret as a new, decrypt-only key', () => {
    const kr = Keyring.generate()
    kr.rotate()
    kr.retire(1)
    kr.remove(1)
    const legacy = Keyring.fromSecret('L'.repeat(32), 1)
    const sealedByLegacy = legacy.seal('t', 'old value')
    assert.equal(kr.addKeyWithSecret('L'.repeat(32)), 3)
    assert.equal(kr.stateOf(3), 'decrypt-only')
    throwsKc(() => kr.openText('t', sealedByLegacy), 'KeyRetired') // sealed under kid 1, removed above
    assert.equal(kr.openText('t', Keyring.fromSecret('L'.repeat(32), 3).seal('t', 'v3')), 'v3')
    throwsKc(() => kr.addKeyWithSecret('short'), 'InvalidArgument')
    assert.equal(kr.addKeyWithSecret(filled(32, 9)), 4)
    assert.equal(kr.kids().length, 4)
    assert.equal(kr.addKey(undefined), 5)
    // addKey takes no argument: a secret given to it is refused, not silently ignored for a
    // random key (addKeyWithSecret adopts one), and nothing is added. (undefined and null are
    // no argument, as for every optional argument.)
    for (const arg of ['L'.repeat(32), filled(32, 7), '', 0, false, {}, [1]]) {
      const e = throwsKc(() => kr.addKey(arg), 'InvalidArgument', 'type')
      assert.match(e.message, /addKeyWithSecret/)
      assert.equal(e.argument, 'secret')
    }
    assert.equal(kr.kids().length, 5, 'nothing was added')
    assert.equal(kr.addKey(null), 6)
    assert.equal(kr.kids().length, 6)
    assert.equal(kr.primaryKid, 2)
  })

  test('nonces never repeat', () => {
    // 20000 seals, 20000 distinct nonces: a repeat, or random bytes handed out twice, shows here.
    const kr = Keyring.generate()
    const seen = new Set()
    for (let i = 0; i < 20000; i++) seen.add(toHex(kr.sealBinary('tenant-1', 'v').subarray(5, 17)))
    assert.equal(seen.size, 20000)
    assert.notEqual(kc.randomToken(16), kc.randomToken(16))
  })

  test('many owners (more than a key caches ciphers for): each opens for its owner only', () => {
    const kr = Keyring.generate()
    const sealed = []
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 48; i++) {
        const owner = `tenant-${(i * 7 + round) % 40}`
        sealed.push([owner, kr.seal(owner, `v-${owner}`, 'ctx')])
      }
    }
    for (const [owner, env] of sealed) {
      assert.equal(kr.openText(owner, env, 'ctx'), `v-${owner}`)
      throwsKc(() => kr.open(`${owner}x`, env, 'ctx'), 'DecryptFailed')
    }
    kr.promote(kr.addKey())
    const [owner, env] = sealed[0]
    assert.equal(kr.openText(owner, kr.rewrap(owner, env, 'ctx'), 'ctx'), `v-${owner}`)
    kr.retire(1)
    throwsKc(() => kr.open(owner, env, 'ctx'), 'KeyRetired')
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
    assert.equal(k2.openText('t', k.seal('t', 'x')), 'x')
    throwsKc(() => Keyring.parse('{}'), 'Malformed')
    throwsKc(() => Keyring.parse('not json'), 'Malformed')
    throwsKc(() => Keyring.parse(''), 'Malformed')
    throwsKc(() => Keyring.parse('{"version":2,"primary":1,"keys":[]}'), 'Malformed')
    throwsKc(() => Keyring.parse(' '.repeat(1024 * 1024 + 1)), 'TooLarge')
  })

  test('printing a keyring or an error never shows a secret', () => {
    const k = Keyring.fromSecret('s'.repeat(40))
    const secretB64 = b64url(utf8('s'.repeat(40)))
    const shown = [host.inspect(k), String(k), JSON.stringify(k) ?? '']
    if (has('Keyring.toString')) {
      assert.match(String(k), /Keyring/)
      shown.push(k.toString())
    }
    for (const s of shown) {
      assert.ok(!s.includes(secretB64), 'keyring printed its secret')
      assert.ok(!s.includes('s'.repeat(40)))
    }
    const kr = Keyring.generate()
    kr.rotate()
    const doc = JSON.parse(kr.export())
    for (const key of doc.keys) assert.ok(!String(kr).includes(key.secret) && !(JSON.stringify(kr) ?? '').includes(key.secret))
    const e = throwsKc(() => k.open('tenant-marker', 'kc1.' + 'A'.repeat(60), 'ctx-marker'), 'Malformed')
    const text = host.inspect(e) + JSON.stringify(e) + e.message
    assert.ok(!text.includes('tenant-marker') && !text.includes('ctx-marker'))
  })

  test('fromSecret takes the bytes exactly as given (a string is its UTF-8, never decoded)', () => {
    const s = 'an-existing-platform-secret-of-40-bytes!'
    assert.equal(s.length, 40)
    const a = Keyring.fromSecret(s)
    const b = Keyring.fromSecret(utf8(s), 1)
    assert.equal(a.primaryKid, 1)
    assert.equal(b.openText('t', a.seal('t', 'x')), 'x')
    assert.equal(Keyring.fromSecret(ROOT_A, 5).primaryKid, 5)
    assert.equal(Keyring.fromSecret(s, 7).primaryKid, 7)
    throwsKc(() => Keyring.fromSecret('short'), 'InvalidArgument')
    throwsKc(() => Keyring.fromSecret(new Uint8Array(31)), 'InvalidArgument')
    throwsKc(() => Keyring.fromSecret(new Uint8Array(1025)), 'InvalidArgument')
    throwsKc(() => Keyring.fromSecret(ROOT_A, 0), 'InvalidArgument')
    // A hex string is NOT decoded: it is 64 bytes of text, a different key.
    const h = Keyring.fromSecret(toHex(ROOT_A))
    throwsKc(() => h.open('t', Keyring.fromSecret(ROOT_A).seal('t', 'x')), 'DecryptFailed')
  })

  test('fromEnv reads KEYCUSTODY_KEYRING or a named variable', { skip: !(has('Keyring.fromEnv') && host.node) && 'no Keyring.fromEnv in this runtime (tests/api.json)' }, () => {
    const { process } = host.node
    const k = Keyring.generate()
    const text = k.export()
    const env = k.seal('t', 'x')
    process.env.KC_JS_TEST_KEYRING = text
    try {
      assert.equal(Keyring.fromEnv('KC_JS_TEST_KEYRING').openText('t', env), 'x')
    } finally {
      delete process.env.KC_JS_TEST_KEYRING
    }
    throwsKc(() => Keyring.fromEnv('KC_JS_TEST_KEYRING'), 'MissingEnvVar')
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

  test('fromFile refuses group/other-readable files', { skip: !(has('Keyring.fromFile') && host.node) && 'no Keyring.fromFile in this runtime (tests/api.json)' }, () => {
    const { fs, path, tmp } = host.node
    const dir = fs.mkdtempSync(path.join(tmp(), 'fromfile-'))
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
  })

  test('deriveKey: per-owner, per-purpose, default 32 bytes', () => {
    const k = Keyring.fromSecret(ROOT_A)
    const a = k.deriveKey('webhook-signing', 'tenant-1')
    assert.ok(isBytes(a), `a ${ctx.conv.bytes_class}`)
    assert.equal(a.length, 32)
    same(k.deriveKey('webhook-signing', 'tenant-1', 32), a)
    assert.notEqual(toHex(k.deriveKey('webhook-signing', 'tenant-2')), toHex(a))
    assert.notEqual(toHex(k.deriveKey('other', 'tenant-1')), toHex(a))
    assert.equal(k.deriveKey('p', 'o', 64).length, 64)
    same(k.deriveKey('p', 'o', 64).subarray(0, 32), k.deriveKey('p', 'o', 32))
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
    assert.equal(k.openText('o'.repeat(1024), k.seal('o'.repeat(1024), 'x')), 'x')
    throwsKc(() => k.seal(max + 'a', 'x'), 'InvalidOwner')
    throwsKc(() => k.seal('o'.repeat(1025), 'x'), 'InvalidOwner')
    throwsKc(() => k.seal('', 'x'), 'InvalidOwner')
    throwsKc(() => k.open('', k.seal('t', 'x')), 'InvalidOwner')
    throwsKc(() => k.rewrap('', k.seal('t', 'x')), 'InvalidOwner')
  })

  test('openText requires UTF-8', () => {
    const k = Keyring.generate()
    const env = k.seal('t', new Uint8Array([0xff, 0xfe, 0x00]))
    throwsKc(() => k.openText('t', env), 'Malformed')
    assert.deepEqual([...k.open('t', env)], [0xff, 0xfe, 0x00])
  })

  test('plaintext limit: 64 MiB', () => {
    const k = Keyring.generate()
    const e = throwsKc(() => k.seal('t', new Uint8Array(64 * 1024 * 1024 + 1)), 'TooLarge')
    assert.equal(e.limit, 64 * 1024 * 1024)
  })

  test('binary envelopes: the text form without "kc1." and base64url', () => {
    const k = Keyring.generate()
    const bin = k.sealBinary('t', 'hello', 'c')
    assert.ok(isBytes(bin), `a ${ctx.conv.bytes_class}`)
    assert.equal(bin.length, 17 + 5 + 16)
    assert.deepEqual(kc.inspectBinary(bin), { version: 1, kid: 1, plaintextLen: 5 })
    assert.equal(new TextDecoder().decode(k.openBinary('t', bin, 'c')), 'hello')
    assert.equal(k.openText('t', 'kc1.' + b64url(bin), 'c'), 'hello')
    const text = k.seal('t', 'x')
    assert.equal(new TextDecoder().decode(k.openBinary('t', fromB64(text.slice(4)))), 'x')
    throwsKc(() => k.openBinary('t', 'kc1.' + b64url(bin), 'c'), 'InvalidArgument', 'type')
  })

  test('addKeyWithSecret: the same secret on two keyrings gives interoperable keys', () => {
    const k = Keyring.generate()
    const secret = crypto.getRandomValues(new Uint8Array(32))
    assert.equal(k.addKeyWithSecret(secret), 2)
    assert.equal(k.stateOf(2), 'decrypt-only')
    assert.equal(k.stateOf(1), 'active')
    k.promote(2)
    assert.equal(k.openText('t', Keyring.fromSecret(secret, 2).seal('t', 'same')), 'same')
    k.retire(1)
    assert.equal(k.stateOf(1), 'retired')
    throwsKc(() => k.stateOf(7), 'UnknownKey')
  })

  test('constantTimeEqual', () => {
    assert.equal(kc.constantTimeEqual('abc', 'abc'), true)
    assert.equal(kc.constantTimeEqual('abc', 'abd'), false)
    assert.equal(kc.constantTimeEqual('abc', 'abcd'), false)
    assert.equal(kc.constantTimeEqual('', ''), true)
    assert.equal(kc.constantTimeEqual(utf8('abc'), 'abc'), true)
    assert.equal(kc.constantTimeEqual(new Uint8Array(0), ''), true)
    assert.equal(kc.constantTimeEqual(new Uint8Array([1, 2]), concat(new Uint8Array([1]), new Uint8Array([2]))), true)
  })

  test('random tokens, base62, invite codes and strings', () => {
    const t = kc.randomToken()
    assert.match(t, /^[0-9a-f]{64}$/)
    assert.notEqual(kc.randomToken(), t)
    assert.match(kc.randomToken(16), /^[0-9a-f]{32}$/)
    assert.match(kc.randomToken(1024), /^[0-9a-f]{2048}$/)
    assert.match(kc.randomBase62(), /^[0-9A-Za-z]{32}$/)
    assert.match(kc.randomBase62(5), /^[0-9A-Za-z]{5}$/)
    assert.match(kc.randomBase62(40), /^[0-9A-Za-z]{40}$/)
    // Uniformity smoke check over the base62 alphabet: every symbol shows up.
    assert.equal(new Set(kc.randomBase62(1024)).size, 62)
    assert.match(kc.inviteCode(8), /^[ABCDEFGHJKLMNPQRSTUVWXYZ23456789]{8}$/)
    for (const f of [kc.randomToken, kc.randomBase62, kc.inviteCode]) {
      throwsKc(() => f(0), 'InvalidArgument')
      throwsKc(() => f(1025), 'InvalidArgument')
      for (const bad of [-1, 1.5, NaN, Infinity, 2 ** 53]) throwsKc(() => f(bad), 'InvalidArgument', 'range')
      throwsKc(() => f('8'), 'InvalidArgument', 'type')
    }
    throwsKc(() => kc.inviteCode(), 'InvalidArgument', 'type')
    // randomString: uniform over a set of distinct ASCII symbols.
    assert.match(kc.randomString('abc', 40), /^[abc]{40}$/)
    assert.match(kc.randomString('ab', 64), /^[ab]{64}$/)
    assert.equal(new Set(kc.randomString('xyz', 300)).size, 3)
    for (const bad of ['a', 'abca', 'ab\u00e9', 'ä€']) throwsKc(() => kc.randomString(bad, 8), 'InvalidArgument')
    throwsKc(() => kc.randomString('ab', 0), 'InvalidArgument')
  })

  test('API keys: generate, parse, hash, verify; typos are caught by the checksum', () => {
    const g = kc.generateApiKey('obee')
    assert.match(g.key, /^obee_[0-9A-Za-z]{36}$/)
    assert.match(g.hash, /^[0-9a-f]{64}$/)
    assert.equal(g.hint, `obee_${g.key.slice(5, 9)}…${g.key.slice(-4)}`)
    assert.deepEqual({ ...kc.parseApiKey(g.key) }, { prefix: 'obee', hint: g.hint, hash: g.hash })
    assert.equal(kc.hashApiKey(g.key), g.hash)
    assert.equal(kc.verifyApiKey(g.key, g.hash), true)
    assert.equal(kc.verifyApiKey(g.key, kc.generateApiKey('obee').hash), false)
    const typo = g.key.slice(0, 10) + (g.key[10] === 'a' ? 'b' : 'a') + g.key.slice(11)
    throwsKc(() => kc.parseApiKey(typo), 'Malformed')
    // A presented key that does not verify is false, malformed or not; only a bad stored hash throws.
    assert.equal(kc.verifyApiKey(typo, g.hash), false)
    assert.equal(kc.verifyApiKey('not a key', g.hash), false)
    throwsKc(() => kc.verifyApiKey(g.key, g.hash.toUpperCase()), 'Malformed')
    throwsKc(() => kc.verifyApiKey(g.key, 'abc'), 'Malformed')
    throwsKc(() => kc.verifyApiKey(g.key, 'ABC'), 'Malformed')
    for (const p of ['', 'a'.toUpperCase(), 'Obee', '1bee', 'ob-e', 'a'.repeat(17)]) throwsKc(() => kc.generateApiKey(p), 'Malformed')
    assert.match(kc.generateApiKey('a'.repeat(16)).key, /^a{16}_/)
  })

  test('the Keyring class has no usable constructor and methods check their receiver', () => {
    assert.throws(() => new Keyring())
    assert.throws(() => Keyring.prototype.seal.call({}, 't', 'x'))
    // The instance still works afterwards.
    assert.equal(Keyring.generate().primaryKid, 1)
  })

  test('strings: a real U+FFFD is accepted, a lone surrogate anywhere is Malformed', () => {
    const kr = Keyring.generate()
    assert.equal(kr.openText('own\uFFFDer', kr.seal('own\uFFFDer', 'a\uFFFDb', 'c\uFFFD'), 'c\uFFFD'), 'a\uFFFDb')
    for (const bad of ['\ud800', 'x\udc00', 'a\uFFFD\ud83d', '\ude00\ud83d']) {
      throwsKc(() => kr.seal(bad, 'x'), 'Malformed')
      throwsKc(() => kr.seal('t', bad), 'Malformed')
      throwsKc(() => kr.seal('t', 'x', bad), 'Malformed')
    }
    // A well-formed surrogate pair is one character, not an error.
    assert.equal(kr.openText('t', kr.seal('t', '\ud83d\ude00')), '😀')
    // The U+FFFD owner and lone-surrogate owners stay apart.
    const sealed = kr.seal('tenant-\uFFFD', 'x')
    assert.equal(kr.openText('tenant-\uFFFD', sealed), 'x')
    for (const o of ['tenant-\uD800', 'tenant-\uDFFF']) {
      throwsKc(() => kr.open(o, sealed), 'Malformed')
      throwsKc(() => kr.deriveKey('p', o), 'Malformed')
    }
    assert.equal(kr.deriveKey('p', 'tenant-\uFFFD').length, 32)
    assert.equal(kr.openText('tenant-\u{1F600}', kr.seal('tenant-\u{1F600}', 'y\u{1F600}')), 'y\u{1F600}')
    if (has('Keyring.fromEnv')) {
      const e = throwsKc(() => Keyring.fromEnv('KEYCUSTODY_\uD800'), 'Malformed')
      assert.equal(e.code, 'KC_MALFORMED')
    }
  })

  test('a freed keyring throws instead of trapping', { skip: !ctx.glue.has('Keyring.free') && 'no Keyring.free in this runtime (tests/api.json runtime_only)' }, () => {
    const kr = Keyring.generate()
    kr.free()
    assert.throws(() => kr.seal('t', 'x'))
    assert.equal(Keyring.generate().primaryKid, 1)
  })
}
