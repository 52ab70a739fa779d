// One error shape (issue 13 item 4): every thrown error carries `code` and `kind`, and the
// non-secret detail of its kind as a property, read from core's accessors — the same names and
// values in every JS package (formerly bindings-node/test/errors.test.mjs and the details tests
// of bindings-wasm/test/platform.test.mjs).
import { assert, filled } from '../harness.mjs'

const NOW = 1700000000
const DETAILS = ['kid', 'limit', 'claim', 'argument', 'malformedKind', 'envVar', 'ioKind', 'auditPosition']

export default function register(test, ctx) {
  const { kc, throwsKc, has, host } = ctx
  const { Keyring } = kc

  /** Asserts `e` has exactly the `expected` detail properties (others absent). */
  function details(e, expected) {
    for (const d of DETAILS) {
      if (d in expected) {
        if (expected[d] instanceof RegExp) assert.match(e[d], expected[d], d)
        else assert.equal(e[d], expected[d], d)
      } else assert.equal(Object.hasOwn(e, d), false, `${d} should be absent, is ${e[d]}`)
    }
  }

  test('every error kind of the manifest has the code core gives it', () => {
    assert.equal(ctx.manifest.error_kinds.length, new Set(ctx.manifest.error_kinds).size)
    assert.ok(ctx.manifest.error_kinds.includes('DecryptFailed') && ctx.manifest.error_kinds.length >= 19)
  })

  test('UnknownKey, KeyRetired, PrimaryKey: kid', () => {
    const k = Keyring.generate()
    const other = Keyring.fromSecret(filled(32, 7), 9).seal('t', 'x')
    details(throwsKc(() => k.open('t', other), 'UnknownKey'), { kid: 9 })
    details(throwsKc(() => k.retire(1), 'PrimaryKey'), { kid: 1 })
    const o2 = Keyring.fromSecret('k'.repeat(32), 9).seal('t', 'x')
    details(throwsKc(() => k.open('t', o2), 'UnknownKey'), { kid: 9 })
  })

  test('TooLarge: limit', () => {
    const big = new Uint8Array(16 * 1024 * 1024 + 1)
    details(throwsKc(() => kc.verifyStripeSignature(big, 't=1,v1=00', 'whsec_a', 300, NOW), 'TooLarge'), { limit: 16 * 1024 * 1024 })
    details(throwsKc(() => kc.signStripePayload(big, 'whsec_x', 1), 'TooLarge'), { limit: 16 * 1024 * 1024 })
  })

  test('ClaimMismatch: claim', () => {
    const k = Keyring.generate()
    const token = k.signJwt('acme', { sub: 'u', aud: 'dash' }, 600, NOW)
    const e = throwsKc(() => k.verifyJwt('acme', token, { audience: 'api', now: NOW }), 'ClaimMismatch')
    details(e, { claim: 'aud' })
    assert.equal(e.message, 'claim mismatch: aud')
  })

  test('InvalidArgument: argument (core text, or the argument name for a wrong JS type or range)', () => {
    const e = throwsKc(() => new kc.ReplayGuard(0), 'InvalidArgument')
    assert.ok(!(e instanceof TypeError) && !(e instanceof RangeError))
    details(e, { argument: 'capacity must be 1 to 10000000 entries' })
    // A wrong JS type or range: the detail is the bare parameter name (the message is a
    // sentence naming it), an options property as options.<name>, in both packages.
    const owner = throwsKc(() => Keyring.generate().seal(42, 'x'), 'InvalidArgument', 'type')
    details(owner, { argument: 'owner' })
    assert.match(owner.message, /owner/)
    details(throwsKc(() => kc.randomToken(1.5), 'InvalidArgument', 'range'), { argument: 'nbytes' })
    details(throwsKc(() => kc.randomToken(2 ** 32), 'InvalidArgument', 'range'), { argument: 'nbytes' })
    details(throwsKc(() => kc.verifyStandardWebhook('{}', 42, 'whsec_AAAA', 300, NOW), 'InvalidArgument', 'type'), { argument: 'headers' })
    const k = Keyring.generate()
    const t = k.signJwt('acme', {}, 60, NOW)
    details(throwsKc(() => k.verifyJwt('acme', t, { leeway: -1 }), 'InvalidArgument', 'range'), { argument: 'options.leeway' })
    details(throwsKc(() => k.verifyJwt('acme', t, { audience: 5 }), 'InvalidArgument', 'type'), { argument: 'options.audience' })
    details(throwsKc(() => kc.decryptLegacyPbkdf2Gcm('AAAA', 'pw', { iterations: 'x' }), 'InvalidArgument', 'type'), { argument: 'options.iterations' })
    details(throwsKc(() => kc.decryptLegacyPbkdf2Gcm('AAAA', 'pw', { saltLen: 1.5 }), 'InvalidArgument', 'range'), { argument: 'options.saltLen' })
    details(throwsKc(() => kc.decryptLegacyPbkdf2Gcm('AAAA', 'pw', { ivLen: -1 }), 'InvalidArgument', 'range'), { argument: 'options.ivLen' })
    // addKey refuses any argument, naming addKeyWithSecret.
    const add = throwsKc(() => k.addKey('L'.repeat(32)), 'InvalidArgument', 'type')
    details(add, { argument: 'secret' })
    assert.match(add.message, /addKeyWithSecret/)
  })

  test('Malformed: malformedKind is MalformedKind::name()', () => {
    details(throwsKc(() => kc.inspect('not an envelope'), 'Malformed'), { malformedKind: 'EnvelopePrefix' })
    const echo = throwsKc(() => Keyring.generate().open('tenant', 'sk-live-THIS-IS-SECRET'), 'Malformed')
    details(echo, { malformedKind: 'EnvelopePrefix' })
    assert.ok(!echo.message.includes('THIS-IS-SECRET') && !echo.stack.includes('THIS-IS-SECRET'), 'the error echoes the input')
    details(throwsKc(() => kc.parseApiKey('kc_' + 'x'.repeat(36)), 'Malformed'), { malformedKind: 'ApiKeyChecksum' })
    details(throwsKc(() => Keyring.parse('{"version":2,"primary":1,"keys":[]}'), 'Malformed'), { malformedKind: 'KeyringVersion' })
    details(throwsKc(() => kc.verifyStandardWebhook('{}', {}, 'whsec_AAAA', 300, NOW), 'Malformed'), { malformedKind: 'WebhookHeaderMissing' })
  })

  test('MissingEnvVar: envVar, and the message names the variable', { skip: !(has('Keyring.fromEnv') && host.node) && 'no Keyring.fromEnv in this runtime (tests/api.json)' }, () => {
    const { process } = host.node
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

  test('Io: ioKind', { skip: !(has('Keyring.fromFile') && host.node) && 'no Keyring.fromFile in this runtime (tests/api.json)' }, () => {
    const { path, tmp } = host.node
    details(throwsKc(() => Keyring.fromFile(path.join(tmp(), 'missing.json')), 'Io'), { ioKind: 'NotFound' })
  })

  test('errors without a detail carry none, and details never carry a secret', () => {
    const k = Keyring.generate()
    const env = k.seal('t1', 'sk-live-MARKER')
    const e = throwsKc(() => k.open('t2', env), 'DecryptFailed')
    details(e, {})
    const shown = `${e.message} ${host.inspect(e)} ${JSON.stringify(e)}`
    assert.ok(!shown.includes('MARKER') && !shown.includes(env.slice(4, 20)))
  })
}
