// Garbage in, typed error out — for EVERY exported function and method (formerly
// bindings-node/test/garbage.test.mjs + specs.mjs and bindings-wasm/test/garbage.mjs).
// Each parameter, replaced in turn by values of the wrong type, gives InvalidArgument (its
// error name per tests/api.json js_targets: napi TypeError / RangeError), a string that is not
// well-formed UTF-16 gives Malformed, bad values the core's own kind; never a crash or a trap,
// and no message ever quotes the input. The spec table must cover every export (checked first,
// with the glue names of tests/api.json runtime_only), so a new export without garbage
// coverage fails this suite.
import { assert, utf8, fromHex, b64url, fromB64, concat, filled } from '../harness.mjs'
import { legacyGcmBlob, opensslFile, LEGACY_PASSWORD } from './platform.mjs'

const MARKER = 'sk-MARKER-do-not-echo-7f3a'
const NOW = 1700000000
const ROOT_A = fromHex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f')

// Wrong values per parameter type: [label, value, arg]; arg = 'type' | 'range' (the napi
// error class, checked by name) or 'any' (InvalidArgument under any of the three names).
const common = [
  ['number', 42, 'type'], ['boolean', true, 'type'], ['object', { secret: MARKER }, 'type'], ['array', [MARKER], 'type'],
  ['symbol', Symbol('s'), 'type'], ['bigint', 10n, 'type'], ['function', () => MARKER, 'type'],
]
const NUMERIC = [
  ['string', MARKER, 'type'], ['numeric string', '1', 'type'], ['boolean', true, 'type'], ['object', { n: 1, secret: MARKER }, 'type'],
  ['array', [1], 'type'], ['symbol', Symbol('i'), 'type'], ['bigint', 10n, 'type'], ['function', () => 1, 'type'],
]
const WRONG = {
  str: [...common, ['float', 1.5, 'type'], ['String object', Object('abc'), 'type'], ['ArrayBuffer', new ArrayBuffer(4), 'type'], ['Uint16Array', new Uint16Array(2), 'type'], ['Uint8Array', utf8(MARKER), 'type'], ['array of bytes', [1, 2, 3], 'type'], ['DataView', new DataView(new ArrayBuffer(2)), 'type']],
  bytes: [
    ...common, ['String object', Object('abc'), 'type'], ['float', 1.5, 'type'], ['array of bytes', [1, 2, 3], 'type'], ['Uint16Array', new Uint16Array(4), 'type'], ['Float64Array', new Float64Array(1), 'type'],
    ['ArrayBuffer', new ArrayBuffer(4), 'type'], ['DataView', new DataView(new ArrayBuffer(4)), 'type'],
  ],
  u8: [...common, ['string', MARKER, 'type'], ['float', 1.5, 'type'], ['String object', Object('abc'), 'type'], ['array of bytes', [1, 2], 'type'], ['Uint32Array', new Uint32Array(2), 'type'], ['ArrayBuffer', new ArrayBuffer(4), 'type'], ['Uint16Array', new Uint16Array(2), 'type'], ['DataView', new DataView(new ArrayBuffer(2)), 'type']],
  u32: NUMERIC,
  uint: NUMERIC,
  i64: NUMERIC,
  claims: [
    ['number', 42, 'type'], ['boolean', true, 'type'], ['symbol', Symbol('c'), 'type'], ['bigint', 10n, 'type'], ['function', () => MARKER, 'type'],
    ['toJSON to a BigInt', { toJSON: () => 10n }, 'type'], ['cycle', (() => { const o = {}; o.self = o; return o })(), 'type'],
    ['object with a BigInt', { a: 1n }, 'type'], ['float', 1.5, 'any'], ['array', [], 'any'], ['array of bytes', [1, 2, 3], 'any'],
  ],
  jwtopts: [
    ['number', 42, 'type'], [MARKER, MARKER, 'type'], ['boolean', true, 'type'], ['symbol', Symbol('o'), 'type'], ['bigint', 10n, 'type'],
    ['function', () => MARKER, 'type'], ['array', [MARKER], 'type'],
    ['audience: 5', { audience: 5 }, 'type'], ['issuer: {}', { issuer: {} }, 'type'], ['leeway: -1', { leeway: -1 }, 'range'],
    ['leeway: 1.5', { leeway: 1.5 }, 'range'], ['now: "1"', { now: '1' }, 'type'],
    ['Uint8Array', utf8(MARKER), 'type'], ['DataView', new DataView(new ArrayBuffer(2)), 'type'], ['ArrayBuffer', new ArrayBuffer(2), 'type'],
  ],
  headers: [
    ['number', 42, 'type'], ['string', MARKER, 'type'], ['boolean', true, 'type'], ['symbol', Symbol('h'), 'type'], ['bigint', 10n, 'type'],
    ['function', () => MARKER, 'type'], ['array', [MARKER], 'type'], ['array of pairs', [['webhook-id', 'msg_1']], 'type'],
    ['Uint8Array', new Uint8Array(2), 'type'], ['Uint16Array', new Uint16Array(2), 'any'],
    ['float', 1.5, 'any'], ['array of bytes', [1, 2, 3], 'any'], ['value: number', { 'webhook-id': 1 }, 'type'], ['value: [1]', { 'webhook-id': [1] }, 'type'],
    ['entries() of non-pairs', { entries: () => ['webhook-id'].values() }, 'type'],
    ['ArrayBuffer', new ArrayBuffer(2), 'type'], ['DataView', new DataView(new ArrayBuffer(2)), 'type'], ['String object', Object('abc'), 'type'],
  ],
  // A Keyring argument (napi: TypeError; wasm: keyring.js checks it, KC_INVALID_ARGUMENT).
  keyring: [...common, ['string', MARKER, 'type'], ['Uint8Array', utf8(MARKER), 'type'], ['a keyring-like object', { __wbg_ptr: 1 }, 'type']],
  // The audit chain's class arguments (napi: TypeError; wasm: keyring.js checks them, KC_INVALID_ARGUMENT).
  entry: [...common, ['string', MARKER, 'type'], ['Uint8Array', utf8(MARKER), 'type']],
  entries: [...common, ['string', MARKER, 'type'], ['Uint8Array', utf8(MARKER), 'type']],
  checkpoint: [...common, ['string', MARKER, 'type'], ['Uint8Array', utf8(MARKER), 'type']],
  report: [...common, ['string', MARKER, 'type'], ['Uint8Array', utf8(MARKER), 'type']],
  event: [
    ['number', 42, 'type'], ['boolean', true, 'type'], ['array', [MARKER], 'type'], ['symbol', Symbol('e'), 'type'], ['bigint', 10n, 'type'],
    ['function', () => MARKER, 'type'], ['string', MARKER, 'type'], ['Uint8Array', utf8(MARKER), 'type'], ['no op', { names: [MARKER] }, 'type'],
    ['op: number', { op: 1 }, 'type'], ['names: a string', { op: 'x', names: MARKER }, 'type'], ['names: [1]', { op: 'x', names: [1] }, 'type'],
    ['actor: number', { op: 'x', actor: 7 }, 'type'],
  ],
  params: [
    ['number', 42, 'type'], ['string', MARKER, 'type'], ['boolean', true, 'type'], ['symbol', Symbol('o'), 'type'], ['bigint', 10n, 'type'],
    ['function', () => MARKER, 'type'], ['array', [MARKER], 'type'],
    ['iterations: -1', { iterations: -1 }, 'range'], ['saltLen: "16"', { saltLen: '16' }, 'type'], ['ivLen: 1.5', { ivLen: 1.5 }, 'range'],
    ['Uint8Array', utf8(MARKER), 'type'], ['DataView', new DataView(new ArrayBuffer(2)), 'type'], ['ArrayBuffer', new ArrayBuffer(2), 'type'],
  ],
}
const OUT_OF_RANGE = {
  u32: [2 ** 32, -1, 1.5, NaN, Infinity, -Infinity, 2 ** 53, -(2 ** 60)],
  uint: [-1, 1.5, NaN, Infinity, -Infinity, 2 ** 53, -(2 ** 60)],
  i64: [1.5, NaN, Infinity, -Infinity, 2 ** 53, -(2 ** 53)],
}
// Malformed (not InvalidArgument): values of the right JS type that are not well-formed.
const MALFORMED = {
  str: [['lone surrogate', 'a\ud800b']],
  bytes: [['lone surrogate', 'a\ud800b']],
  claims: [['lone surrogate', 'a\ud800b']],
  jwtopts: [['audience: lone surrogate', { audience: 'a\ud800' }]],
  headers: [['no webhook headers', {}], ['value: lone surrogate', { 'webhook-id': 'a\ud800b' }]],
  event: [['op: lone surrogate', { op: 'a\ud800b' }], ['names: lone surrogate', { op: 'x', names: ['a\ud800b'] }]],
}

async function makeSpecs(kc, ctx) {
  const { Keyring } = kc
  /** A keyring with kid 1 retired, kid 2 decrypt-only, kid 3 active, and envelopes under each. */
  function fresh() {
    const k = Keyring.fromSecret(ROOT_A, 1)
    const envRetired = k.seal('t', 'x', 'c')
    k.rotate()
    const envOld = k.seal('t', 'x', 'c')
    k.rotate()
    k.retire(1)
    const envCurrent = k.seal('t', 'x', 'c')
    const envBinary = k.seal('t', new Uint8Array([0xff, 0xfe]), 'c')
    const envUnknown = Keyring.fromSecret(ROOT_A, 9).seal('t', 'x', 'c')
    return { k, envRetired, envOld, envCurrent, envBinary, envUnknown }
  }
  const fx = fresh()
  const { envRetired, envCurrent, envBinary, envUnknown, envOld } = fx
  const K = fx.k
  const binEnv = K.sealBinary('t', 'x', 'c')

  let keyFile
  let dir
  if (ctx.host.node && ctx.has('Keyring.fromEnv')) {
    const { fs, path, process, tmp } = ctx.host.node
    process.env.KC_GARBAGE_KEYRING = K.export()
    process.env.KEYCUSTODY_KEYRING = K.export()
    dir = fs.mkdtempSync(path.join(tmp(), 'garbage-'))
    keyFile = path.join(dir, 'keyring.json')
    fs.writeFileSync(keyFile, K.export(), { mode: 0o600 })
  }

  let hugeBuf
  const huge = () => (hugeBuf ??= new Uint8Array(64 * 1024 * 1024 + 1))
  const longOwner = 'o'.repeat(1025)
  const tampered = (() => {
    const raw = fromB64(envCurrent.slice(4))
    raw[20] ^= 0x80
    return 'kc1.' + b64url(raw)
  })()
  // [label, args, expected kind] for the envelope-opening methods.
  const openBad = [
    ['empty owner', ['', envCurrent, 'c'], 'InvalidOwner'],
    ['1025-byte owner', [longOwner, envCurrent, 'c'], 'InvalidOwner'],
    ['wrong owner', ['u', envCurrent, 'c'], 'DecryptFailed'],
    ['wrong context', ['t', envCurrent, 'd'], 'DecryptFailed'],
    ['tampered', ['t', tampered, 'c'], 'DecryptFailed'],
    ['retired kid', ['t', envRetired, 'c'], 'KeyRetired'],
    ['unknown kid', ['t', envUnknown, 'c'], 'UnknownKey'],
    ['garbage envelope', [MARKER, 'kc1.' + MARKER, MARKER], 'Malformed'],
    ['empty envelope', ['t', '', 'c'], 'Malformed'],
    ['no prefix', ['t', envCurrent.slice(4), 'c'], 'Malformed'],
    ['truncated', ['t', envCurrent.slice(0, 20), 'c'], 'Malformed'],
    ['1 MB of junk', ['t', 'x'.repeat(1 << 20), 'c'], 'Malformed'],
  ]
  const seal = {
    args: ['t', 'x', 'c'],
    types: ['str', 'bytes', 'bytes?'],
    bad: [
      ['empty owner', ['', 'x'], 'InvalidOwner'],
      ['1025-byte owner', [longOwner, 'x'], 'InvalidOwner'],
      ['64 MiB + 1 plaintext', ['t', { lazy: huge }], 'TooLarge'],
    ],
  }
  const open = { args: ['t', envCurrent, 'c'], types: ['str', 'str', 'bytes?'], bad: openBad }
  const openText = { args: ['t', envCurrent, 'c'], types: ['str', 'str', 'bytes?'], bad: [...openBad, ['non-UTF-8 plaintext', ['t', envBinary, 'c'], 'Malformed']] }
  const rewrap = { args: ['t', envOld, 'c'], types: ['str', 'str', 'bytes?'], bad: openBad }
  const kidBad = (primaryKind) => [
    ['unknown kid', [99], 'UnknownKey'],
    ['kid 0', [0], 'UnknownKey'],
    ['max kid', [2 ** 32 - 1], 'UnknownKey'],
    ['primary', [3], primaryKind],
  ]
  // Lazily-built arguments (the 64 MiB buffer is allocated once, when first needed).
  const L = (args) => args.map((a) => (a && typeof a === 'object' && typeof a.lazy === 'function' ? a.lazy() : a))
  const m = (name, mutating = false) => (...a) => (mutating ? fresh().k : K)[name](...L(a))
  const f = (name) => (...a) => kc[name](...L(a))

  // Webhook, JWT, code, TOTP, delivery and legacy fixtures.
  const body = utf8('{"id":"evt_1"}')
  const stripeSecret = 'whsec_test_secret'
  const stripeHeader = kc.signStripePayload(body, stripeSecret, NOW)
  const stdSecret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
  const stdSig = kc.signStandardWebhook(body, 'msg_1', NOW, stdSecret)
  const stdHeaders = (over = {}) => ({
    'content-type': 'application/json',
    'webhook-id': 'msg_1',
    'webhook-timestamp': String(NOW),
    'webhook-signature': stdSig,
    ...over,
  })
  const jwt = K.signJwt('acme', { sub: 'u1' }, 600, NOW)
  const issued = K.issueCode('user@example.com', NOW)
  const TOTP_SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ'
  const totpCode = kc.totpAt(TOTP_SECRET, NOW)
  const kp = kc.generateDeliveryKeypair()
  const delivered = kc.sealForDelivery(kp.publicKey, 'tenant-1', 'sk-ant-xyz')
  const gcmBlob = await legacyGcmBlob(1000)
  const sslFile = await opensslFile(1000)
  const gcmBad = [
    ['wrong password', [gcmBlob, 'wrong', { iterations: 1000 }], 'DecryptFailed'],
    ['not base64', [MARKER + '!!', LEGACY_PASSWORD, { iterations: 1000 }], 'Malformed'],
    ['too short', ['AAAA', LEGACY_PASSWORD, { iterations: 1000 }], 'Malformed'],
    ['0 iterations', [gcmBlob, LEGACY_PASSWORD, { iterations: 0 }], 'InvalidArgument'],
    ['salt 0', [gcmBlob, LEGACY_PASSWORD, { iterations: 1000, saltLen: 0 }], 'InvalidArgument'],
    ['iv 16', [gcmBlob, LEGACY_PASSWORD, { iterations: 1000, ivLen: 16 }], 'InvalidArgument'],
  ]
  const sslBad = [
    ['wrong password', [sslFile, 'wrong', 1000], 'DecryptFailed'],
    ['no header', [utf8('not an openssl file at all'), LEGACY_PASSWORD, 1000], 'Malformed'],
    ['0 iterations', [sslFile, LEGACY_PASSWORD, 0], 'InvalidArgument'],
  ]
  const pbkdf2Gcm = { args: [gcmBlob, LEGACY_PASSWORD, { iterations: 1000 }], types: ['str', 'bytes', 'params?'], bad: gcmBad }
  const openssl = { args: [sslFile, LEGACY_PASSWORD, 1000], types: ['u8', 'bytes', 'u32?'], bad: sslBad }
  const API_KEY = 'obee_Ab12Cd34Ef56Gh78Ij90KlMnOpQrSt3XntTV'

  // Custody fixtures: a tenant keyring sealed under K, wrapped keyrings (application KEK: a
  // fresh PendingWrap finished with a fake wrapped DEK; passphrase: cheap Argon2id parameters).
  const tenantKr = Keyring.generate()
  const sealedTenant = K.sealKeyring('acme', tenantKr)
  const appWrapped = () => new kc.PendingWrap(tenantKr, 'aws-kms', 'k', 'acme').finish(new Uint8Array([1]))
  const dekWrapped = (() => {
    const p = new kc.PendingWrap(tenantKr, 'aws-kms', 'k', 'acme')
    const dek = p.dek
    return { dek, w: p.finish(new Uint8Array([1])) }
  })()
  const pwWrapped = await kc.wrapWithPassphrase(tenantKr, `pass-${MARKER}`, 'acme', 8, 1, 1)
  const specs = {
    'Keyring.generate': { call: () => Keyring.generate(), args: [], types: [] },
    'Keyring.parse': {
      call: (t) => Keyring.parse(t),
      args: [K.export()],
      types: ['str'],
      bad: [
        ['not JSON', [MARKER], 'Malformed'],
        ['empty', [''], 'Malformed'],
        ['wrong version', ['{"version":2,"primary":1,"keys":[]}'], 'Malformed'],
        ['no active key', ['{"version":1,"primary":1,"keys":[]}'], 'Malformed'],
        ['short secret', ['{"version":1,"primary":1,"keys":[{"kid":1,"state":"active","secret":"AAAA"}]}'], 'Malformed'],
        ['over 1 MiB', [' '.repeat(1024 * 1024 + 1)], 'TooLarge'],
      ],
    },
    'Keyring.fromEnv': {
      call: (n) => Keyring.fromEnv(n),
      args: ['KC_GARBAGE_KEYRING'],
      types: ['str?'],
      bad: [
        ['unset', ['KC_GARBAGE_UNSET_VARIABLE'], 'MissingEnvVar'],
        ['empty name', [''], 'MissingEnvVar'],
        ['name with =', ['A=B'], 'MissingEnvVar'],
        ['name with NUL', ['A\0B'], 'MissingEnvVar'],
      ],
    },
    'Keyring.fromFile': {
      call: (p) => Keyring.fromFile(p),
      args: [keyFile],
      types: ['str'],
      bad: [
        ['missing file', [`${dir}/missing`], 'Io'],
        ['empty path', [''], 'Io'],
        ['NUL in path', ['a\0b'], 'Io'],
      ],
    },
    'Keyring.fromSecret': {
      call: (s, kid) => Keyring.fromSecret(s, kid),
      args: [ROOT_A, 1],
      types: ['bytes', 'u32?'],
      bad: [
        ['31 bytes', [new Uint8Array(31)], 'InvalidArgument'],
        ['empty', [''], 'InvalidArgument'],
        ['short', ['short'], 'InvalidArgument'],
        ['1025 bytes', [new Uint8Array(1025)], 'InvalidArgument'],
        ['kid 0', [ROOT_A, 0], 'InvalidArgument'],
      ],
    },
    'Keyring#export': { call: m('export'), args: [], types: [] },
    'Keyring#addKey': { call: m('addKey', true), args: [], types: [] },
    'Keyring#rotate': { call: m('rotate', true), args: [], types: [] },
    'Keyring#kids': { call: m('kids'), args: [], types: [] },
    'Keyring#toString': { call: m('toString'), args: [], types: [] },
    'Keyring#promote': { call: m('promote', true), args: [2], types: ['u32'], bad: [...kidBad('UnknownKey').slice(0, 3), ['retired', [1], 'KeyRetired']] },
    'Keyring#retire': { call: m('retire', true), args: [2], types: ['u32'], bad: kidBad('PrimaryKey') },
    'Keyring#remove': { call: m('remove', true), args: [2], types: ['u32'], bad: kidBad('PrimaryKey') },
    'Keyring#stateOf': { call: m('stateOf'), args: [3], types: ['u32'], bad: [['unknown', [99], 'UnknownKey'], ['zero', [0], 'UnknownKey']] },
    'Keyring#seal': { call: m('seal'), ...seal },
    'Keyring#sealAsync': { call: m('sealAsync'), ...seal },
    'Keyring#sealBinary': { call: m('sealBinary'), ...seal },
    'Keyring#open': { call: m('open'), ...open },
    'Keyring#openAsync': { call: m('openAsync'), ...open },
    'Keyring#openText': { call: m('openText'), ...openText },
    'Keyring#openTextAsync': { call: m('openTextAsync'), ...openText },
    'Keyring#rewrap': { call: m('rewrap'), ...rewrap },
    'Keyring#rewrapAsync': { call: m('rewrapAsync'), ...rewrap },
    'Keyring#openBinary': {
      call: m('openBinary'),
      args: ['t', binEnv, 'c'],
      types: ['str', 'u8', 'bytes?'],
      bad: [
        ['wrong owner', ['u', binEnv, 'c'], 'DecryptFailed'],
        ['wrong context', ['t', binEnv, 'd'], 'DecryptFailed'],
        ['empty owner', ['', binEnv, 'c'], 'InvalidOwner'],
        ['truncated', ['t', binEnv.subarray(0, 20), 'c'], 'Malformed'],
        ['three bytes', ['t', new Uint8Array(3), 'c'], 'Malformed'],
        ['empty', ['t', new Uint8Array(0), 'c'], 'Malformed'],
        ['retired kid', ['t', fromB64(envRetired.slice(4)), 'c'], 'KeyRetired'],
        ['unknown kid', ['t', fromB64(envUnknown.slice(4)), 'c'], 'UnknownKey'],
      ],
    },
    'Keyring#needsRewrap': {
      call: m('needsRewrap'),
      args: [envCurrent],
      types: ['str'],
      bad: [['garbage', ['kc1.' + MARKER], 'Malformed'], ['empty', [''], 'Malformed']],
    },
    'Keyring#deriveKey': {
      call: m('deriveKey'),
      args: ['p', 'o', 32],
      types: ['str', 'str', 'u32?'],
      bad: [
        ['empty purpose', ['', 'o'], 'InvalidArgument'],
        ['257-byte purpose', ['p'.repeat(257), 'o'], 'InvalidArgument'],
        ['empty owner', ['p', ''], 'InvalidOwner'],
        ['1025-byte owner', ['p', longOwner], 'InvalidOwner'],
        ['length 0', ['p', 'o', 0], 'InvalidArgument'],
        ['length 8161', ['p', 'o', 8161], 'InvalidArgument'],
        ['length 2^32 - 1', ['p', 'o', 2 ** 32 - 1], 'InvalidArgument'],
      ],
    },
    'Keyring#addKeyWithSecret': {
      call: m('addKeyWithSecret', true),
      args: [filled(32, 1)],
      types: ['bytes'],
      bad: [['31 bytes', [new Uint8Array(31)], 'InvalidArgument'], ['1025 bytes', [new Uint8Array(1025)], 'InvalidArgument'], ['short', ['short'], 'InvalidArgument']],
    },
    'Keyring#jwtSecret': {
      call: m('jwtSecret'),
      args: ['acme'],
      types: ['str'],
      bad: [['empty tenant', [''], 'InvalidOwner'], ['1025-byte tenant', [longOwner], 'InvalidOwner']],
    },
    'Keyring#signJwt': {
      call: m('signJwt'),
      args: ['acme', { sub: 'u1' }, 600, NOW],
      types: ['str', 'claims', 'uint', 'i64?'],
      bad: [
        ['exp set', ['acme', { exp: 1 }, 600, NOW], 'InvalidArgument'],
        ['claims not an object', ['acme', '[1,2]', 600, NOW], 'InvalidArgument'],
        ['claims not JSON', ['acme', MARKER, 600, NOW], 'InvalidArgument'],
        ['ttl 0', ['acme', {}, 0, NOW], 'InvalidArgument'],
        ['ttl over a year', ['acme', {}, 367 * 86400, NOW], 'InvalidArgument'],
        ['empty tenant', ['', {}, 600, NOW], 'InvalidOwner'],
      ],
    },
    'Keyring#verifyJwt': {
      call: m('verifyJwt'),
      args: ['acme', jwt, { now: NOW }],
      types: ['str', 'str', 'jwtopts?'],
      bad: [
        ['other tenant', ['globex', jwt, { now: NOW }], 'SignatureInvalid'],
        ['expired', ['acme', jwt, { now: NOW + 601 }], 'Expired'],
        ['not yet valid', ['acme', jwt, { now: NOW - 3600 }], 'NotYetValid'],
        ['audience required', ['acme', jwt, { now: NOW, audience: 'api' }], 'ClaimMismatch'],
        ['garbage token', ['acme', MARKER, { now: NOW }], 'Malformed'],
        ['leeway over a day', ['acme', jwt, { now: NOW, leeway: 86401 }], 'InvalidArgument'],
        ['empty tenant', ['', jwt, { now: NOW }], 'InvalidOwner'],
      ],
    },
    'Keyring#issueCode': {
      call: m('issueCode'),
      args: ['user@example.com', NOW],
      types: ['str', 'i64?'],
      bad: [['empty subject', ['', NOW], 'InvalidArgument'], ['NUL in subject', ['a\0b', NOW], 'InvalidArgument']],
    },
    'Keyring#verifyCode': {
      call: m('verifyCode'),
      args: ['user@example.com', issued.code, issued.record, NOW],
      types: ['str', 'str', 'str', 'i64?'],
      bad: [['bad record', ['user@example.com', issued.code, MARKER, NOW], 'Malformed'], ['empty subject', ['', issued.code, issued.record, NOW], 'InvalidArgument']],
    },
    'Keyring#pseudonymize': { call: m('pseudonymize'), args: ['203.0.113.7'], types: ['str'], bad: [['over 64 KiB', ['x'.repeat(64 * 1024 + 1)], 'TooLarge']] },
    'Keyring#pseudonymizeFor': {
      call: m('pseudonymizeFor'),
      args: ['acme', '203.0.113.7'],
      types: ['str', 'str'],
      bad: [['empty tenant', ['', 'x'], 'InvalidOwner'], ['over 64 KiB', ['acme', 'x'.repeat(64 * 1024 + 1)], 'TooLarge']],
    },
    inspect: {
      call: f('inspect'),
      args: [envCurrent],
      types: ['str'],
      bad: [
        ['garbage', ['kc1.' + MARKER], 'Malformed'],
        ['empty', [''], 'Malformed'],
        ['kid 0', ['kc1.' + b64url(concat(new Uint8Array([1, 0, 0, 0, 0]), new Uint8Array(28)))], 'Malformed'],
        ['version 2', ['kc1.' + b64url(concat(new Uint8Array([2, 0, 0, 0, 1]), new Uint8Array(28)))], 'Malformed'],
      ],
    },
    inspectBinary: {
      call: f('inspectBinary'),
      args: [binEnv],
      types: ['u8'],
      bad: [['empty', [new Uint8Array(0)], 'Malformed'], ['five bytes', [new Uint8Array(5)], 'Malformed'], ['version 2', [concat(new Uint8Array([2, 0, 0, 0, 1]), new Uint8Array(28))], 'Malformed']],
    },
    constantTimeEqual: { call: f('constantTimeEqual'), args: ['a', 'b'], types: ['bytes', 'bytes'] },
    randomToken: { call: f('randomToken'), args: [32], types: ['u32?'], bad: [['0', [0], 'InvalidArgument'], ['1025', [1025], 'InvalidArgument']] },
    randomBase62: { call: f('randomBase62'), args: [32], types: ['u32?'], bad: [['0', [0], 'InvalidArgument'], ['1025', [1025], 'InvalidArgument']] },
    randomString: {
      call: f('randomString'),
      args: ['abcdef', 8],
      types: ['str', 'u32'],
      bad: [
        ['one symbol', ['a', 8], 'InvalidArgument'],
        ['repeated symbol', ['abca', 8], 'InvalidArgument'],
        ['non-ASCII', ['ab\u00e9', 8], 'InvalidArgument'],
        ['length 0', ['abcdef', 0], 'InvalidArgument'],
        ['length 1025', ['abcdef', 1025], 'InvalidArgument'],
      ],
    },
    inviteCode: { call: f('inviteCode'), args: [8], types: ['u32'], bad: [['0', [0], 'InvalidArgument'], ['1025', [1025], 'InvalidArgument']] },
    generateApiKey: {
      call: f('generateApiKey'),
      args: ['obee'],
      types: ['str'],
      bad: [['empty', [''], 'Malformed'], ['uppercase', ['OBEE'], 'Malformed'], ['17 chars', ['a'.repeat(17)], 'Malformed'], ['marker', [MARKER], 'Malformed']],
    },
    parseApiKey: {
      call: f('parseApiKey'),
      args: [API_KEY],
      types: ['str'],
      bad: [['marker', [MARKER], 'Malformed'], ['empty', [''], 'Malformed'], ['checksum', ['obee_Ab12Cd34Ef56Gh78Ij90KlMnOpQrSt3XntTW'], 'Malformed']],
    },
    hashApiKey: { call: f('hashApiKey'), args: [API_KEY], types: ['str'], bad: [['marker', [MARKER], 'Malformed']] },
    verifyApiKey: {
      call: f('verifyApiKey'),
      args: [API_KEY, '7886c2d72ee207e151b470b3c2519cc05b279cb6643d1c4139de27ca87331d53'],
      types: ['str', 'str'],
      bad: [['bad hash', [API_KEY, MARKER], 'Malformed']],
    },
    verifyStripeSignature: {
      call: f('verifyStripeSignature'),
      args: [body, stripeHeader, stripeSecret, 300, NOW],
      types: ['bytes', 'str', 'str', 'uint?', 'i64?'],
      bad: [
        ['wrong secret', [body, stripeHeader, 'whsec_other', 300, NOW], 'SignatureInvalid'],
        ['other body', [utf8('{}'), stripeHeader, stripeSecret, 300, NOW], 'SignatureInvalid'],
        ['too old', [body, stripeHeader, stripeSecret, 300, NOW + 301], 'TimestampOutOfTolerance'],
        ['bad header', [body, MARKER, stripeSecret, 300, NOW], 'Malformed'],
        ['empty secret', [body, stripeHeader, '', 300, NOW], 'InvalidArgument'],
        ['16 MiB + 1 payload', [{ lazy: () => new Uint8Array(16 * 1024 * 1024 + 1) }, stripeHeader, stripeSecret, 300, NOW], 'TooLarge'],
      ],
    },
    signStripePayload: {
      call: f('signStripePayload'),
      args: [body, stripeSecret, NOW],
      types: ['bytes', 'str', 'i64'],
      bad: [['negative time', [body, stripeSecret, -1], 'InvalidArgument'], ['empty secret', [body, '', NOW], 'InvalidArgument']],
    },
    verifyStandardWebhook: {
      call: f('verifyStandardWebhook'),
      args: [body, stdHeaders(), stdSecret, 300, NOW],
      types: ['bytes', 'headers', 'str', 'uint?', 'i64?'],
      bad: [
        ['wrong id', [body, stdHeaders({ 'webhook-id': 'msg_2' }), stdSecret, 300, NOW], 'SignatureInvalid'],
        ['too new', [body, stdHeaders(), stdSecret, 300, NOW - 301], 'TimestampOutOfTolerance'],
        ['bad timestamp', [body, stdHeaders({ 'webhook-timestamp': 'soon' }), stdSecret, 300, NOW], 'Malformed'],
        ['bad signature header', [body, stdHeaders({ 'webhook-signature': MARKER }), stdSecret, 300, NOW], 'Malformed'],
        ['bad secret', [body, stdHeaders(), 'whsec_' + MARKER + '!', 300, NOW], 'Malformed'],
        ['empty id', [body, stdHeaders({ 'webhook-id': '' }), stdSecret, 300, NOW], 'Malformed'],
        ['no headers', [body, {}, stdSecret, 300, NOW], 'Malformed'],
        ['missing signature', [body, { 'webhook-id': 'msg_1', 'webhook-timestamp': String(NOW) }, stdSecret, 300, NOW], 'Malformed'],
        ['id in two cases', [body, { ...stdHeaders(), 'Webhook-Id': 'msg_1' }, stdSecret, 300, NOW], 'Malformed'],
        ['repeated signature (array)', [body, stdHeaders({ 'webhook-signature': [stdSig, stdSig] }), stdSecret, 300, NOW], 'Malformed'],
        ['repeated in a Map', [body, new Map([...Object.entries(stdHeaders()), ['WEBHOOK-TIMESTAMP', String(NOW)]]), stdSecret, 300, NOW], 'Malformed'],
        ['empty Headers', [body, new Headers(), stdSecret, 300, NOW], 'Malformed'],
        ['joined timestamp (Headers)', [body, (() => { const h = new Headers(stdHeaders()); h.append('webhook-timestamp', String(NOW)); return h })(), stdSecret, 300, NOW], 'Malformed'],
        ['number value', [body, stdHeaders({ 'webhook-id': 42 }), stdSecret, 300, NOW], 'InvalidArgument'],
        ['object value', [body, stdHeaders({ 'webhook-signature': { secret: MARKER } }), stdSecret, 300, NOW], 'InvalidArgument'],
        ['array of numbers', [body, stdHeaders({ 'webhook-id': [1] }), stdSecret, 300, NOW], 'InvalidArgument'],
        ['entries() of non-pairs', [body, { entries: () => [MARKER].values() }, stdSecret, 300, NOW], 'InvalidArgument'],
        ['16 MiB + 1 payload', [{ lazy: () => new Uint8Array(16 * 1024 * 1024 + 1) }, stdHeaders(), stdSecret, 300, NOW], 'TooLarge'],
      ],
    },
    signStandardWebhook: {
      call: f('signStandardWebhook'),
      args: [body, 'msg_1', NOW, stdSecret],
      types: ['bytes', 'str', 'i64', 'str'],
      bad: [['negative time', [body, 'msg_1', -1, stdSecret], 'InvalidArgument'], ['bad secret', [body, 'msg_1', NOW, 'whsec_!!'], 'Malformed']],
    },
    generateStandardWebhookSecret: { call: f('generateStandardWebhookSecret'), args: [], types: [] },
    verifyTelegramSecret: {
      call: f('verifyTelegramSecret'),
      args: ['tok_1', 'tok_1'],
      types: ['str', 'str'],
      bad: [['mismatch', [MARKER, 'tok_1'], 'SignatureInvalid'], ['empty header', ['', 'tok_1'], 'SignatureInvalid'], ['invalid expected', ['x', 'bad token!'], 'InvalidArgument']],
    },
    'new ReplayGuard': { call: (...a) => new kc.ReplayGuard(...a), args: [10, 60], types: ['u32?', 'uint?'], bad: [['capacity 0', [0, 60], 'InvalidArgument']] },
    'ReplayGuard#checkAndRecord': {
      call: (id, now) => new kc.ReplayGuard(10, 60).checkAndRecord(id, now),
      args: ['evt_1', NOW],
      types: ['str', 'i64?'],
      bad: [['empty id', ['', NOW], 'InvalidArgument'], ['1025-byte id', ['e'.repeat(1025), NOW], 'InvalidArgument']],
    },
    generateTotpSecret: { call: f('generateTotpSecret'), args: [], types: [] },
    totpUri: {
      call: f('totpUri'),
      args: [TOTP_SECRET, 'alice@example.com', 'Acme'],
      types: ['str', 'str', 'str'],
      bad: [['bad secret', [MARKER, 'a', 'b'], 'Malformed'], ['colon in account', [TOTP_SECRET, 'a:b', 'Acme'], 'InvalidArgument'], ['empty issuer', [TOTP_SECRET, 'a', ''], 'InvalidArgument']],
    },
    totpAt: {
      call: f('totpAt'),
      args: [TOTP_SECRET, NOW],
      types: ['str', 'i64?'],
      bad: [['bad secret', ['1!', NOW], 'Malformed'], ['negative time', [TOTP_SECRET, -1], 'InvalidArgument']],
    },
    totpRawAt: {
      call: f('totpRawAt'),
      args: [utf8('12345678901234567890'), NOW, 30, 6, 'SHA1'],
      types: ['bytes', 'i64?', 'uint?', 'u32?', 'str?'],
      bad: [
        ['empty key', [new Uint8Array(0), NOW], 'InvalidArgument'],
        ['period 0', [new Uint8Array(20), NOW, 0], 'InvalidArgument'],
        ['9 digits', [new Uint8Array(20), NOW, 30, 9], 'InvalidArgument'],
        ['MD5', [new Uint8Array(20), NOW, 30, 6, 'MD5'], 'InvalidArgument'],
        ['negative time', [new Uint8Array(20), -1], 'InvalidArgument'],
      ],
    },
    totpStep: { call: f('totpStep'), args: [NOW], types: ['i64?'], bad: [['negative time', [-1], 'InvalidArgument']] },
    verifyTotpAt: {
      call: f('verifyTotpAt'),
      args: [TOTP_SECRET, totpCode, NOW, null],
      types: ['str', 'str', 'i64?', 'uint?'],
      bad: [
        ['wrong code', [TOTP_SECRET, totpCode === '000000' ? '111111' : '000000', NOW], 'SignatureInvalid'],
        ['replayed', [TOTP_SECRET, totpCode, NOW, Math.floor(NOW / 30)], 'Replayed'],
        ['bad secret', [MARKER, totpCode, NOW], 'Malformed'],
      ],
    },
    generateDeliveryKeypair: { call: f('generateDeliveryKeypair'), args: [], types: [] },
    deriveDeliveryKeypair: { call: f('deriveDeliveryKeypair'), args: [filled(32, 5)], types: ['bytes'], bad: [['31 bytes', [new Uint8Array(31)], 'InvalidArgument']] },
    deliveryPublicKey: { call: f('deliveryPublicKey'), args: [kp.privateKey], types: ['str'], bad: [['garbage', [MARKER], 'Malformed']] },
    deliveryKeyFingerprint: {
      call: f('deliveryKeyFingerprint'),
      args: [kp.publicKey],
      types: ['str'],
      bad: [['garbage', [MARKER], 'Malformed'], ['private key as public', [kp.privateKey], 'Malformed']],
    },
    sealForDelivery: {
      call: f('sealForDelivery'),
      args: [kp.publicKey, 'tenant-1', 'secret', kc.deliveryKeyFingerprint(kp.publicKey)],
      types: ['str', 'str', 'bytes', 'str?'],
      bad: [
        ['bad public key', [MARKER, 'tenant-1', 'x'], 'Malformed'],
        ['private key as public', [kp.privateKey, 'tenant-1', 'x'], 'Malformed'],
        ['empty owner', [kp.publicKey, '', 'x'], 'InvalidOwner'],
        ['1 MiB + 1', [kp.publicKey, 'o', { lazy: () => new Uint8Array(1024 * 1024 + 1) }], 'TooLarge'],
        ['substituted key', [kc.generateDeliveryKeypair().publicKey, 'tenant-1', 'x', kc.deliveryKeyFingerprint(kp.publicKey)], 'ClaimMismatch'],
        ['garbage fingerprint', [kp.publicKey, 'tenant-1', 'x', MARKER], 'Malformed'],
      ],
    },
    openDelivery: {
      call: f('openDelivery'),
      args: [kp.privateKey, 'tenant-1', delivered],
      types: ['str', 'str', 'str'],
      bad: [
        ['wrong owner', [kp.privateKey, 'tenant-2', delivered], 'DecryptFailed'],
        ['wrong key', [kc.generateDeliveryKeypair().privateKey, 'tenant-1', delivered], 'DecryptFailed'],
        ['garbage blob', [kp.privateKey, 'tenant-1', 'kcd1.' + MARKER], 'Malformed'],
        ['bad private key', [MARKER, 'tenant-1', delivered], 'Malformed'],
        ['empty owner', [kp.privateKey, '', delivered], 'InvalidOwner'],
      ],
    },
    scrub: { call: f('scrub'), args: ['nothing secret here'], types: ['str'] },
    validateSlug: {
      call: f('validateSlug'),
      args: ['acme-co'],
      types: ['str'],
      bad: [['too short', ['ab'], 'InvalidArgument'], ['uppercase', ['Acme'], 'InvalidArgument'], ['marker', [MARKER], 'InvalidArgument']],
    },
    validateEmail: {
      call: f('validateEmail'),
      args: ['a@example.com'],
      types: ['str'],
      bad: [['no domain', ['a@b'], 'InvalidArgument'], ['newline', ['a@example.com\n'], 'InvalidArgument'], ['marker', [MARKER], 'InvalidArgument']],
    },
    // custody (issue 14 item 6): tenant keyrings, wrapped keyrings, the tenant keyring cache.
    'Keyring#sealKeyring': {
      call: m('sealKeyring'),
      args: ['acme', tenantKr],
      types: ['str', 'keyring'],
      bad: [['empty tenant', ['', tenantKr], 'InvalidOwner'], ['1025-byte tenant', [longOwner, tenantKr], 'InvalidOwner']],
    },
    'Keyring#openKeyring': {
      call: m('openKeyring'),
      args: ['acme', sealedTenant],
      types: ['str', 'str'],
      bad: [
        ['wrong tenant', ['evil', sealedTenant], 'DecryptFailed'],
        ['data envelope', ['acme', K.seal('acme', 'x')], 'DecryptFailed'],
        ['not a keyring', ['acme', K.seal('acme', 'not a keyring', 'keycustody/v1/keyring')], 'Malformed'],
        ['garbage', ['acme', MARKER], 'Malformed'],
        ['empty tenant', ['', sealedTenant], 'InvalidOwner'],
      ],
    },
    'WrappedKeyring.parse': {
      call: (t) => kc.WrappedKeyring.parse(t),
      args: [appWrapped().toText()],
      types: ['str'],
      bad: [['not JSON', [MARKER], 'Malformed'], ['empty', [''], 'Malformed'], ['a keyring', [K.export()], 'Malformed']],
    },
    'WrappedKeyring#toText': { call: () => appWrapped().toText(), args: [], types: [] },
    'WrappedKeyring#expectOwner': {
      call: (o) => appWrapped().expectOwner(o),
      args: ['acme'],
      types: ['str'],
      bad: [['other owner', ['evil'], 'DecryptFailed']],
    },
    'WrappedKeyring#openWithDek': {
      call: (d) => dekWrapped.w.openWithDek(d),
      args: [dekWrapped.dek],
      types: ['u8'],
      bad: [['wrong DEK', [filled(32, 9)], 'DecryptFailed'], ['short DEK', [filled(16, 9)], 'DecryptFailed']],
    },
    'WrappedKeyring#openWithPassphrase': {
      call: (pw) => pwWrapped.openWithPassphrase(pw),
      args: [`pass-${MARKER}`],
      types: ['bytes'],
      bad: [['wrong passphrase', ['wrong'], 'DecryptFailed']],
    },
    'new PendingWrap': {
      call: (...a) => new kc.PendingWrap(...a),
      args: [tenantKr, 'aws-kms', 'k', 'acme'],
      types: ['keyring', 'str', 'str', 'str'],
      // (the empty owner is the platform keyring's)
      bad: [['1025-byte owner', [tenantKr, 'aws-kms', 'k', longOwner], 'InvalidOwner'], ['empty KEK type', [tenantKr, '', 'k', 'acme'], 'Malformed']],
    },
    'PendingWrap#finish': {
      call: (w) => new kc.PendingWrap(tenantKr, 'aws-kms', 'k', 'acme').finish(w),
      args: [new Uint8Array([1])],
      types: ['u8'],
    },
    wrapWithPassphrase: {
      call: f('wrapWithPassphrase'),
      args: [tenantKr, `pass-${MARKER}`, 'acme', 8, 1, 1],
      types: ['keyring', 'bytes', 'str', 'u32?', 'u32?', 'u32?'],
      bad: [
        ['empty passphrase', [tenantKr, '', 'acme', 8, 1, 1], 'InvalidArgument'],
        ['m below 8p', [tenantKr, 'p', 'acme', 7, 1, 1], 'InvalidArgument'],
        ['t 0', [tenantKr, 'p', 'acme', 8, 0, 1], 'InvalidArgument'],
        ['p 0', [tenantKr, 'p', 'acme', 8, 1, 0], 'InvalidArgument'],
        ['t 17', [tenantKr, 'p', 'acme', 8, 17, 1], 'InvalidArgument'],
        ['m over 1 GiB', [tenantKr, 'p', 'acme', 1024 * 1024 + 1, 1, 1], 'InvalidArgument'],
        ['1025-byte owner', [tenantKr, 'p', longOwner, 8, 1, 1], 'InvalidOwner'],
        ['passphrase over 64 KiB', [tenantKr, filled(64 * 1024 + 1, 1), 'acme', 8, 1, 1], 'TooLarge'],
      ],
    },
    isWrappedKeyring: { call: f('isWrappedKeyring'), args: ['{"kek":1}'], types: ['str'] },
    'new TenantKeyringCache': { call: (...a) => new kc.TenantKeyringCache(...a), args: [4, 60], types: ['uint?', 'uint?'] },
    'TenantKeyringCache#get': { call: (t, now) => new kc.TenantKeyringCache(4, 60).get(t, now), args: ['acme', NOW], types: ['str', 'uint?'] },
    'TenantKeyringCache#insert': {
      call: (t, k, now) => new kc.TenantKeyringCache(4, 60).insert(t, k, now),
      args: ['acme', tenantKr, NOW],
      types: ['str', 'keyring', 'uint?'],
    },
    'TenantKeyringCache#invalidate': { call: (t) => new kc.TenantKeyringCache(4, 60).invalidate(t), args: ['acme'], types: ['str'] },
    'TenantKeyringCache#clear': { call: () => new kc.TenantKeyringCache(4, 60).clear(), args: [], types: [] },
    // the audit chain (issue 15 item 2): pure; entries and checkpoints are class instances.
    ...(ctx.has('AuditChain') ? auditSpecs(kc, tenantKr) : {}),
    decryptLegacyPbkdf2Gcm: { call: f('decryptLegacyPbkdf2Gcm'), ...pbkdf2Gcm },
    decryptLegacyPbkdf2GcmAsync: { call: f('decryptLegacyPbkdf2GcmAsync'), ...pbkdf2Gcm },
    decryptOpensslEnc: { call: f('decryptOpensslEnc'), ...openssl },
    decryptOpensslEncAsync: { call: f('decryptOpensslEncAsync'), ...openssl },
  }
  return { specs, K }
}

/** The audit chain's specs (the runtimes that export it; see tests/api.json). */
function auditSpecs(kc, kr) {
  const chain = new kc.AuditChain(kr, 'tenant:acme')
  const first = chain.next(null, { op: 'secret.read', names: ['OPENAI_KEY'], actor: 'user-7', tenant: 'acme' }, NOW)
  const second = chain.next(first, { op: 'secret.read' }, NOW)
  const report = chain.verifyRun([first, second])
  const cp = chain.checkpoint(second, NOW)
  const ev = { op: 'secret.read', names: ['OPENAI_KEY'] }
  const forged = kc.AuditEntry.parse(second.toJson().replace('"ts":', '"ts":1'))
  return {
    'new AuditChain': {
      call: (...a) => new kc.AuditChain(...a),
      args: [kr, 'tenant:acme'],
      types: ['keyring', 'str'],
      bad: [['empty scope', [kr, ''], 'InvalidOwner']],
    },
    'AuditChain#next': {
      call: (p, e, now) => chain.next(p, e, now),
      args: [second, ev, NOW],
      types: ['entry?', 'event', 'uint?'],
      bad: [
        ['a value field', [second, { op: 'x', value: MARKER }, NOW], 'InvalidArgument'],
        ['a misspelt field', [second, { op: 'x', tennant: MARKER }, NOW], 'InvalidArgument'],
        ['empty op', [second, { op: '' }, NOW], 'InvalidArgument'],
        ['control char', [second, { op: `x\n${MARKER}` }, NOW], 'InvalidArgument'],
        ['65 names', [second, { op: 'x', names: Array(65).fill('n') }, NOW], 'InvalidArgument'],
        ['outcome', [second, { op: 'x', outcome: MARKER }, NOW], 'InvalidArgument'],
        ['forged prev', [forged, ev, NOW], 'AuditBroken'],
      ],
    },
    'AuditChain#verifyEntry': { call: (e) => chain.verifyEntry(e), args: [first], types: ['entry'], bad: [['forged', [forged], 'AuditBroken']] },
    'AuditChain#verifyRun': {
      call: (r, after) => chain.verifyRun(r, after),
      args: [[first, second], null],
      types: ['entries', 'entry?'],
      bad: [['gap', [[second], null], 'AuditBroken'], ['forged', [[first, forged], null], 'AuditBroken']],
    },
    'AuditChain#checkpoint': { call: (h, now) => chain.checkpoint(h, now), args: [second, NOW], types: ['entry?', 'uint?'], bad: [['forged head', [forged, NOW], 'AuditBroken']] },
    'AuditChain#verifyCheckpoint': {
      call: (c) => chain.verifyCheckpoint(c),
      args: [cp],
      types: ['checkpoint'],
      bad: [['another scope', [new kc.AuditChain(kr, 'tenant:other').checkpoint(null, NOW)], 'AuditBroken']],
    },
    'AuditChain#checkAgainst': {
      call: (c, r, at) => chain.checkAgainst(c, r, at),
      args: [cp, report, second],
      types: ['checkpoint', 'report', 'entry?'],
      bad: [['erased', [cp, chain.verifyRun([]), null], 'AuditBroken'], ['shorter', [cp, chain.verifyRun([first]), null], 'AuditBroken']],
    },
    'AuditEntry.parse': {
      call: (t) => kc.AuditEntry.parse(t),
      args: [first.toJson()],
      types: ['bytes'],
      bad: [['not JSON', [MARKER], 'Malformed'], ['empty', [''], 'Malformed'], ['not canonical', [first.toJson() + ' '], 'Malformed']],
    },
    'AuditEntry#toJson': { call: () => first.toJson(), args: [], types: [] },
    'AuditCheckpoint.parse': {
      call: (t) => kc.AuditCheckpoint.parse(t),
      args: [cp.toText()],
      types: ['str'],
      bad: [['not JSON', [MARKER], 'Malformed'], ['empty', [''], 'Malformed']],
    },
    'AuditCheckpoint#toText': { call: () => cp.toText(), args: [], types: [] },
  }
}

const isClass = (v) => typeof v === 'function' && /^class\b/.test(Function.prototype.toString.call(v))

const NO_CONSTRUCTOR = new Set(['Keyring', 'WrappedKeyring', 'AuditEntry', 'AuditCheckpoint', 'AuditReport'])

/** Every exported function, class constructor, static and method, as spec names. */
export function exportedNames(kc, glue) {
  const names = []
  for (const [name, v] of Object.entries(kc)) {
    if (glue.has(name) || name.startsWith('__')) continue
    const cls = isClass(v) || /^[A-Z]/.test(name)
    if (typeof v !== 'function' || !cls) {
      if (typeof v === 'function') names.push(name)
      continue
    }
    // Keyring, WrappedKeyring and the audit chain's value classes (AuditEntry, AuditCheckpoint,
    // AuditReport: made by parse / AuditChain) have no usable constructor; other classes are made with `new`.
    if (!NO_CONSTRUCTOR.has(name)) names.push(`new ${name}`)
    const seen = new Set()
    for (let c = v; c && c !== Function.prototype; c = Object.getPrototypeOf(c)) {
      for (const n of Object.getOwnPropertyNames(c)) {
        if (['length', 'name', 'prototype'].includes(n) || glue.has(`${name}.${n}`) || n.startsWith('__')) continue
        if (typeof Object.getOwnPropertyDescriptor(c, n).value === 'function') seen.add(`${name}.${n}`)
      }
      for (const [n, d] of Object.entries(Object.getOwnPropertyDescriptors(c.prototype ?? {}))) {
        if (n === 'constructor' || glue.has(`${name}.${n}`) || n.startsWith('__') || typeof d.value !== 'function') continue
        seen.add(`${name}#${n}`)
      }
    }
    names.push(...seen)
  }
  return names.sort()
}

export default async function register(test, ctx) {
  const { kc, assertKc, conv } = ctx
  const { specs, K } = await makeSpecs(kc, ctx)
  const exported = exportedNames(kc, ctx.glue)
  const manifestName = (spec) => spec.replace(/^new /, '').replace('#', '.')
  const live = Object.keys(specs).filter((n) => exported.includes(n))

  test('the spec table lists every export, and every spec is an export or absent by the manifest', () => {
    const missing = exported.filter((n) => !(n in specs))
    assert.deepEqual(missing, [], 'exports without a garbage spec')
    const stale = Object.keys(specs).filter((n) => !exported.includes(n) && ctx.has(manifestName(n)))
    assert.deepEqual(stale, [], 'specs of names the manifest lists for this runtime but the package does not export')
    assert.ok(live.length > 60, `only ${live.length} specs apply`)
  })

  const noEcho = (e, label) => {
    const shown = `${e.message} ${e.stack} ${JSON.stringify(e)}`
    assert.ok(!shown.includes(MARKER), `${label}: the error message echoes the input`)
  }
  /** Calls `fn`; asserts a sync throw or a promise rejection of kind; returns the error. */
  async function fails(fn, kind, arg, label) {
    let r
    try {
      r = fn()
    } catch (e) {
      wrapAssert(() => assertKc(e, kind, arg), label)
      return e
    }
    assert.ok(r instanceof Promise, `${label}: expected a ${kind} error, it returned ${typeof r}`)
    try {
      await r
    } catch (e) {
      wrapAssert(() => assertKc(e, kind, arg), label)
      return e
    }
    assert.fail(`${label}: expected a ${kind} rejection, but it resolved`)
  }
  const wrapAssert = (fn, label) => {
    try {
      fn()
    } catch (e) {
      e.message = `${label}: ${e.message}`
      throw e
    }
  }
  const L = (args) => args.map((a) => (a && typeof a === 'object' && typeof a.lazy === 'function' ? a.lazy() : a))

  for (const name of live) {
    const spec = specs[name]
    test(`garbage: ${name}`, async () => {
      // The valid call works (so the failures below are about the one bad argument).
      await spec.call(...spec.args)
      for (let i = 0; i < spec.types.length; i++) {
        const t = spec.types[i]
        const optional = t.endsWith('?')
        const base = optional ? t.slice(0, -1) : t
        const bad = [...WRONG[base]]
        if (!optional) bad.push(['undefined', undefined, 'type'], ['null', null, 'type'])
        for (const [label, g, arg] of bad) {
          const args = [...spec.args]
          args[i] = g
          const where = `${name} arg ${i} (${t}) = ${label}`
          noEcho(await fails(() => spec.call(...args), 'InvalidArgument', arg, where), where)
        }
        for (const g of OUT_OF_RANGE[base] ?? []) {
          const args = [...spec.args]
          args[i] = g
          const where = `${name} arg ${i} (${t}) = ${g}`
          noEcho(await fails(() => spec.call(...args), 'InvalidArgument', 'range', where), where)
        }
        for (const [label, g] of MALFORMED[base] ?? []) {
          const args = [...spec.args]
          args[i] = g
          const where = `${name} arg ${i} (${t}) = ${label}`
          noEcho(await fails(() => spec.call(...args), 'Malformed', undefined, where), where)
        }
        if (optional) {
          // undefined and null mean "use the default": never a type or range error
          // (a core error is fine, e.g. DecryptFailed when the default context is not the sealed one).
          for (const d of [undefined, null]) {
            const args = [...spec.args]
            args[i] = d
            try {
              await spec.call(...args)
            } catch (e) {
              const where = `${name} arg ${i} = ${d}: ${e.message}`
              assert.ok(typeof e.code === 'string' && e.code.startsWith('KC_'), where)
              if (conv.type_error_name !== conv.error_name) assert.ok(!(e instanceof TypeError) && !(e instanceof RangeError), where)
            }
          }
        }
      }
      // Value-level garbage: each case names the core error it must give.
      for (const [label, args, kind] of spec.bad ?? []) {
        const arg = kind === 'InvalidArgument' ? 'any' : undefined
        noEcho(await fails(() => spec.call(...L(args)), kind, arg, `${name}: ${label}`), `${name}: ${label}`)
      }
    })
  }

  // A lone surrogate in ANY string argument is refused with Malformed (kind Utf8), never read
  // as U+FFFD: otherwise "tenant-\uD800" and "tenant-\uFFFD" would be one owner (the shared
  // cases, per position, are tests/vectors/strings_v1.json).
  const LONE = ['\uD800', '\uDFFF', '\uDC00\uD800']
  const withLone = (valid, lone) => {
    const s = typeof valid === 'string' ? valid : 'text'
    const mid = s.length >> 1
    return s.slice(0, mid) + lone + s.slice(mid)
  }
  for (const name of live) {
    const spec = specs[name]
    const positions = spec.types
      .map((t, i) => [t.replace(/\?$/, ''), i])
      .filter(([t, i]) => (t === 'str' || t === 'bytes') && i < spec.args.length && spec.args[i] !== null)
    if (positions.length === 0) continue
    test(`lone surrogates: ${name}`, async () => {
      for (const [, i] of positions) {
        for (const lone of LONE) {
          const args = [...spec.args]
          args[i] = withLone(spec.args[i], lone)
          const label = `${name} arg ${i} with ${JSON.stringify(lone)}`
          const e = await fails(() => spec.call(...args), 'Malformed', undefined, label)
          assert.ok(!(e instanceof TypeError), label)
        }
      }
    })
  }

  test('random and mutated inputs to every parser throw a keycustody error or succeed, never trap', () => {
    // Deterministic (xorshift32) so a failure reproduces.
    let s = 0x9e3779b9
    const rnd = (n) => {
      s ^= s << 13
      s ^= s >>> 17
      s ^= s << 5
      return (s >>> 0) % n
    }
    const kr = kc.Keyring.generate()
    const dk = kc.generateDeliveryKeypair()
    const seeds = [
      kr.seal('t', 'value', 'c'),
      kr.export(),
      kc.sealForDelivery(dk.publicKey, 't', 'x'),
      kc.generateApiKey('obee').key,
      kr.signJwt('t', { sub: 'x' }, 60, NOW),
      kr.issueCode('s', NOW).record,
      't=1700000000,v1=' + 'a'.repeat(64),
      new kc.PendingWrap(kr, 'aws-kms', 'k', 't').finish(new Uint8Array([1, 2, 3])).toText(),
    ]
    const alphabet = 'kc1.AQAB_-=+/{}[]":,0123456789abcdefxyzé\u0000\ud83d\ude00'
    const mutate = (text) => {
      const chars = [...text]
      for (let k = 0, n = 1 + rnd(4); k < n; k++) {
        const i = rnd(chars.length + 1)
        const op = rnd(3)
        if (op === 0) chars.splice(i, 1)
        else if (op === 1) chars.splice(i, 0, alphabet[rnd(alphabet.length)])
        else chars.splice(i, chars.length - i) // truncate
      }
      return chars.join('')
    }
    const targets = [
      (x) => kc.Keyring.parse(x),
      (x) => kr.open('t', x, 'c'),
      (x) => kr.rewrap('t', x, 'c'),
      (x) => kc.inspect(x),
      (x) => kc.openDelivery(dk.privateKey, 't', x),
      (x) => kc.sealForDelivery(x, 't', 'x'),
      (x) => kc.parseApiKey(x),
      (x) => kr.verifyJwt('t', x, { now: NOW }),
      (x) => kr.verifyCode('s', '123456', x, NOW),
      (x) => kc.verifyStripeSignature('{}', x, 'whsec_x', 300, NOW),
      (x) => kc.decryptLegacyPbkdf2Gcm(x, 'pw', { iterations: 1 }),
      (x) => kc.totpAt(x, 0),
      (x) => kc.scrub(x),
      (x) => kc.WrappedKeyring.parse(x),
      (x) => kr.openKeyring('t', x),
    ]
    let refused = 0
    for (let i = 0; i < 4000; i++) {
      const input = mutate(seeds[rnd(seeds.length)])
      const fn = targets[rnd(targets.length)]
      try {
        fn(input)
      } catch (e) {
        assert.ok(typeof e?.kind === 'string' && e.code?.startsWith('KC_'), `not a keycustody error: ${e}`)
        assert.ok([conv.error_name, conv.type_error_name, conv.range_error_name].includes(e.name), `${e.name}`)
        refused++
      }
    }
    assert.ok(refused > 1000, `only ${refused} refusals: the mutations are too weak`)
  })

  test('the package survived everything above', () => {
    assert.equal(K.openText('t', K.seal('t', 'still alive')), 'still alive')
    const kr = kc.Keyring.generate()
    assert.deepEqual([...kr.open('t', kr.seal('t', new Uint8Array([1, 2])))], [1, 2])
  })
}
