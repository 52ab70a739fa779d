// The spec of every export for the garbage suite: a valid call, the type of each argument
// (`string`, `bytes` = string | Uint8Array, `int`, `headers` = Headers | plain object; a trailing `?` = optional), and value-level
// bad calls with the core error kind each must give. New exports must be added here.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import crypto from 'node:crypto'
import { kc, hex } from './helpers.mjs'
import { custodySpecs, custodyClasses } from './custody-specs.mjs'

const { Keyring } = kc
const ROOT_A = hex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f')
const MARKER = 'sk-MARKER-do-not-echo-7f3a'

/** A keyring with kid 1 retired, kid 2 decrypt-only, kid 3 active, and envelopes under each. */
export function fresh() {
  const k = Keyring.fromSecret(ROOT_A, 1)
  const envRetired = k.seal('t', 'x', 'c')
  k.rotate()
  const envOld = k.seal('t', 'x', 'c')
  k.rotate()
  k.retire(1)
  const envCurrent = k.seal('t', 'x', 'c')
  const envBinary = k.seal('t', Buffer.from([0xff, 0xfe]), 'c')
  const envUnknown = Keyring.fromSecret(ROOT_A, 9).seal('t', 'x', 'c')
  return { k, envRetired, envOld, envCurrent, envBinary, envUnknown }
}
const fx = fresh()
const { envRetired, envCurrent, envBinary, envUnknown, envOld } = fx
const K = fx.k

process.env.KC_GARBAGE_KEYRING = K.export()
process.env.KEYCUSTODY_KEYRING = K.export()
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kc-garbage-'))
const keyFile = path.join(dir, 'keyring.json')
fs.writeFileSync(keyFile, K.export(), { mode: 0o600 })
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }))

let hugeBuf
const huge = () => (hugeBuf ??= Buffer.alloc(64 * 1024 * 1024 + 1))
const longOwner = 'o'.repeat(1025)
const tampered = (() => {
  const raw = Buffer.from(envCurrent.slice(4), 'base64url')
  raw[20] ^= 0x80
  return 'kc1.' + raw.toString('base64url')
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
  types: ['string', 'bytes', 'bytes?'],
  bad: [
    ['empty owner', ['', 'x'], 'InvalidOwner'],
    ['1025-byte owner', [longOwner, 'x'], 'InvalidOwner'],
    ['64 MiB + 1 plaintext', ['t', { lazy: huge }], 'TooLarge'],
  ],
}
const open = { args: ['t', envCurrent, 'c'], types: ['string', 'string', 'bytes?'], bad: openBad }
const openText = {
  args: ['t', envCurrent, 'c'],
  types: ['string', 'string', 'bytes?'],
  bad: [...openBad, ['non-UTF-8 plaintext', ['t', envBinary, 'c'], 'Malformed']],
}
const rewrap = { args: ['t', envOld, 'c'], types: ['string', 'string', 'bytes?'], bad: openBad }
const kidBad = (primaryKind) => [
  ['unknown kid', [99], 'UnknownKey'],
  ['kid 0', [0], 'UnknownKey'],
  ['max kid', [2 ** 32 - 1], 'UnknownKey'],
  ['primary', [3], primaryKind],
]

// Resolve lazily-built arguments (the 64 MiB buffer is allocated once, when first needed).
const L = (args) => args.map((a) => (a && typeof a === 'object' && typeof a.lazy === 'function' ? a.lazy() : a))
const m = (name, mutating = false) => (...a) => (mutating ? fresh().k : K)[name](...L(a))

// Webhook fixtures.
const NOW = 1700000000
const body = Buffer.from('{"id":"evt_1"}')
const stripeSecret = 'whsec_test_secret'
const stripeHeader = kc.signStripePayload(body, stripeSecret, NOW)
const stdSecret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
const stdSig = kc.signStandardWebhook(body, 'msg_1', NOW, stdSecret)
/** The Standard Webhooks headers of `body` as a plain object, with `over` replacing some. */
const stdHeaders = (over = {}) => ({
  'content-type': 'application/json',
  'webhook-id': 'msg_1',
  'webhook-timestamp': String(NOW),
  'webhook-signature': stdSig,
  ...over,
})
// JWT, one-time code, TOTP, delivery fixtures.
const jwt = K.signJwt('acme', { sub: 'u1' }, 600, NOW)
const issued = K.issueCode('user@example.com', NOW)
const TOTP_SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ'
const totpCode = kc.totpAt(TOTP_SECRET, NOW)
const kp = kc.generateDeliveryKeypair()
const delivered = kc.sealForDelivery(kp.publicKey, 'tenant-1', 'sk-ant-xyz')
// Legacy fixtures, made with node:crypto (an independent implementation).
const legacyPassword = 'correct horse battery staple'
function legacyGcmBlob(iterations) {
  const salt = Buffer.alloc(16, 7)
  const iv = Buffer.alloc(12, 9)
  const key = crypto.pbkdf2Sync(legacyPassword, salt, iterations, 32, 'sha256')
  const c = crypto.createCipheriv('aes-256-gcm', key, iv)
  const ct = Buffer.concat([c.update('legacy secret'), c.final()])
  return Buffer.concat([salt, iv, ct, c.getAuthTag()]).toString('base64')
}
function opensslFile(iterations) {
  const salt = Buffer.alloc(8, 3)
  const kiv = crypto.pbkdf2Sync(legacyPassword, salt, iterations, 48, 'sha256')
  const c = crypto.createCipheriv('aes-256-cbc', kiv.subarray(0, 32), kiv.subarray(32))
  return Buffer.concat([Buffer.from('Salted__'), salt, c.update('legacy file'), c.final()])
}
export const legacy = { password: legacyPassword, gcmBlob: legacyGcmBlob, opensslFile }
const gcmBlob = legacyGcmBlob(1000)
const sslFile = opensslFile(1000)
const gcmBad = [
  ['wrong password', [gcmBlob, 'wrong', { iterations: 1000 }], 'DecryptFailed'],
  ['not base64', [MARKER + '!!', legacyPassword, { iterations: 1000 }], 'Malformed'],
  ['too short', ['AAAA', legacyPassword, { iterations: 1000 }], 'Malformed'],
  ['0 iterations', [gcmBlob, legacyPassword, { iterations: 0 }], 'InvalidArgument'],
  ['salt 0', [gcmBlob, legacyPassword, { iterations: 1000, saltLen: 0 }], 'InvalidArgument'],
  ['iv 16', [gcmBlob, legacyPassword, { iterations: 1000, ivLen: 16 }], 'InvalidArgument'],
]
const sslBad = [
  ['wrong password', [sslFile, 'wrong', 1000], 'DecryptFailed'],
  ['no header', [Buffer.from('not an openssl file at all'), legacyPassword, 1000], 'Malformed'],
  ['0 iterations', [sslFile, legacyPassword, 0], 'InvalidArgument'],
]
const pbkdf2Gcm = { args: [gcmBlob, legacyPassword, { iterations: 1000 }], types: ['string', 'bytes', 'object?'], bad: gcmBad }
const openssl = { args: [sslFile, legacyPassword, 1000], types: ['bytes', 'bytes', 'int?'], bad: sslBad }

export const specs = {
  'Keyring.generate': { call: () => Keyring.generate(), args: [], types: [] },
  'Keyring.parse': {
    call: (t) => Keyring.parse(t),
    args: [K.export()],
    types: ['string'],
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
    types: ['string?'],
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
    types: ['string'],
    bad: [
      ['missing file', [path.join(dir, 'missing')], 'Io'],
      ['empty path', [''], 'Io'],
      ['NUL in path', ['a\0b'], 'Io'],
    ],
  },
  'Keyring.fromSecret': {
    call: (s, kid) => Keyring.fromSecret(s, kid),
    args: [ROOT_A, 1],
    types: ['bytes', 'int?'],
    bad: [
      ['31 bytes', [Buffer.alloc(31)], 'InvalidArgument'],
      ['empty', [''], 'InvalidArgument'],
      ['1025 bytes', [Buffer.alloc(1025)], 'InvalidArgument'],
      ['kid 0', [ROOT_A, 0], 'InvalidArgument'],
    ],
  },
  '#export': { call: m('export'), args: [], types: [] },
  '#addKey': { call: m('addKey', true), args: [], types: [] },
  '#rotate': { call: m('rotate', true), args: [], types: [] },
  '#kids': { call: m('kids'), args: [], types: [] },
  '#promote': { call: m('promote', true), args: [2], types: ['int'], bad: [...kidBad('UnknownKey').slice(0, 3), ['retired', [1], 'KeyRetired']] },
  '#retire': { call: m('retire', true), args: [2], types: ['int'], bad: kidBad('PrimaryKey') },
  '#remove': { call: m('remove', true), args: [2], types: ['int'], bad: kidBad('PrimaryKey') },
  '#seal': { call: m('seal'), ...seal },
  '#sealAsync': { call: m('sealAsync'), ...seal },
  '#open': { call: m('open'), ...open },
  '#openAsync': { call: m('openAsync'), ...open },
  '#openText': { call: m('openText'), ...openText },
  '#openTextAsync': { call: m('openTextAsync'), ...openText },
  '#rewrap': { call: m('rewrap'), ...rewrap },
  '#rewrapAsync': { call: m('rewrapAsync'), ...rewrap },
  '#needsRewrap': {
    call: m('needsRewrap'),
    args: [envCurrent],
    types: ['string'],
    bad: [
      ['garbage', ['kc1.' + MARKER], 'Malformed'],
      ['empty', [''], 'Malformed'],
    ],
  },
  '#deriveKey': {
    call: m('deriveKey'),
    args: ['p', 'o', 32],
    types: ['string', 'string', 'int?'],
    bad: [
      ['empty purpose', ['', 'o'], 'InvalidArgument'],
      ['257-byte purpose', ['p'.repeat(257), 'o'], 'InvalidArgument'],
      ['empty owner', ['p', ''], 'InvalidOwner'],
      ['1025-byte owner', ['p', longOwner], 'InvalidOwner'],
      ['length 0', ['p', 'o', 0], 'InvalidArgument'],
      ['length 8161', ['p', 'o', 8161], 'InvalidArgument'],
      ['length 2^53 - 1', ['p', 'o', 2 ** 53 - 1], 'InvalidArgument'],
    ],
  },
  inspect: {
    call: (e) => kc.inspect(e),
    args: [envCurrent],
    types: ['string'],
    bad: [
      ['garbage', ['kc1.' + MARKER], 'Malformed'],
      ['empty', [''], 'Malformed'],
      ['kid 0', ['kc1.' + Buffer.concat([Buffer.from([1, 0, 0, 0, 0]), Buffer.alloc(28)]).toString('base64url')], 'Malformed'],
      ['version 2', ['kc1.' + Buffer.concat([Buffer.from([2, 0, 0, 0, 1]), Buffer.alloc(28)]).toString('base64url')], 'Malformed'],
    ],
  },
  constantTimeEqual: { call: (a, b) => kc.constantTimeEqual(a, b), args: ['a', 'b'], types: ['bytes', 'bytes'] },
  randomToken: {
    call: (n) => kc.randomToken(n),
    args: [32],
    types: ['int?'],
    bad: [
      ['0', [0], 'InvalidArgument'],
      ['1025', [1025], 'InvalidArgument'],
    ],
  },
  randomBase62: {
    call: (n) => kc.randomBase62(n),
    args: [32],
    types: ['int?'],
    bad: [
      ['0', [0], 'InvalidArgument'],
      ['1025', [1025], 'InvalidArgument'],
    ],
  },
  randomString: {
    call: (a, n) => kc.randomString(a, n),
    args: ['abcdef', 8],
    types: ['string', 'int'],
    bad: [
      ['one symbol', ['a', 8], 'InvalidArgument'],
      ['repeated symbol', ['abca', 8], 'InvalidArgument'],
      ['non-ASCII', ['ab\u00e9', 8], 'InvalidArgument'],
      ['length 0', ['abcdef', 0], 'InvalidArgument'],
      ['length 1025', ['abcdef', 1025], 'InvalidArgument'],
    ],
  },
  inviteCode: {
    call: (n) => kc.inviteCode(n),
    args: [8],
    types: ['int'],
    bad: [
      ['0', [0], 'InvalidArgument'],
      ['1025', [1025], 'InvalidArgument'],
    ],
  },
  generateApiKey: {
    call: (p) => kc.generateApiKey(p),
    args: ['obee'],
    types: ['string'],
    bad: [
      ['empty', [''], 'Malformed'],
      ['uppercase', ['OBEE'], 'Malformed'],
      ['17 chars', ['a'.repeat(17)], 'Malformed'],
      ['marker', [MARKER], 'Malformed'],
    ],
  },
  parseApiKey: {
    call: (k) => kc.parseApiKey(k),
    args: ['obee_Ab12Cd34Ef56Gh78Ij90KlMnOpQrSt3XntTV'],
    types: ['string'],
    bad: [
      ['marker', [MARKER], 'Malformed'],
      ['empty', [''], 'Malformed'],
      ['checksum', ['obee_Ab12Cd34Ef56Gh78Ij90KlMnOpQrSt3XntTW'], 'Malformed'],
    ],
  },
  hashApiKey: {
    call: (k) => kc.hashApiKey(k),
    args: ['obee_Ab12Cd34Ef56Gh78Ij90KlMnOpQrSt3XntTV'],
    types: ['string'],
    bad: [['marker', [MARKER], 'Malformed']],
  },
  verifyApiKey: {
    call: (k, h) => kc.verifyApiKey(k, h),
    args: ['obee_Ab12Cd34Ef56Gh78Ij90KlMnOpQrSt3XntTV', '7886c2d72ee207e151b470b3c2519cc05b279cb6643d1c4139de27ca87331d53'],
    types: ['string', 'string'],
    bad: [
      ['bad hash', ['obee_Ab12Cd34Ef56Gh78Ij90KlMnOpQrSt3XntTV', MARKER], 'Malformed'],
    ],
  },
}

Object.assign(specs, {
  verifyStripeSignature: {
    call: (...a) => kc.verifyStripeSignature(...L(a)),
    args: [body, stripeHeader, stripeSecret, 300, NOW],
    types: ['bytes', 'string', 'string', 'int?', 'i64?'],
    bad: [
      ['wrong secret', [body, stripeHeader, 'whsec_other', 300, NOW], 'SignatureInvalid'],
      ['other body', [Buffer.from('{}'), stripeHeader, stripeSecret, 300, NOW], 'SignatureInvalid'],
      ['too old', [body, stripeHeader, stripeSecret, 300, NOW + 301], 'TimestampOutOfTolerance'],
      ['bad header', [body, MARKER, stripeSecret, 300, NOW], 'Malformed'],
      ['empty secret', [body, stripeHeader, '', 300, NOW], 'InvalidArgument'],
      ['16 MiB + 1 payload', [{ lazy: () => Buffer.alloc(16 * 1024 * 1024 + 1) }, stripeHeader, stripeSecret, 300, NOW], 'TooLarge'],
    ],
  },
  signStripePayload: {
    call: (...a) => kc.signStripePayload(...a),
    args: [body, stripeSecret, NOW],
    types: ['bytes', 'string', 'i64'],
    bad: [
      ['negative time', [body, stripeSecret, -1], 'InvalidArgument'],
      ['empty secret', [body, '', NOW], 'InvalidArgument'],
    ],
  },
  verifyStandardWebhook: {
    call: (...a) => kc.verifyStandardWebhook(...L(a)),
    args: [body, stdHeaders(), stdSecret, 300, NOW],
    types: ['bytes', 'headers', 'string', 'int?', 'i64?'],
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
      ['16 MiB + 1 payload', [{ lazy: () => Buffer.alloc(16 * 1024 * 1024 + 1) }, stdHeaders(), stdSecret, 300, NOW], 'TooLarge'],
    ],
  },
  signStandardWebhook: {
    call: (...a) => kc.signStandardWebhook(...a),
    args: [body, 'msg_1', NOW, stdSecret],
    types: ['bytes', 'string', 'i64', 'string'],
    bad: [
      ['negative time', [body, 'msg_1', -1, stdSecret], 'InvalidArgument'],
      ['bad secret', [body, 'msg_1', NOW, 'whsec_!!'], 'Malformed'],
    ],
  },
  generateStandardWebhookSecret: { call: () => kc.generateStandardWebhookSecret(), args: [], types: [] },
  verifyTelegramSecret: {
    call: (...a) => kc.verifyTelegramSecret(...a),
    args: ['tok_1', 'tok_1'],
    types: ['string', 'string'],
    bad: [
      ['mismatch', [MARKER, 'tok_1'], 'SignatureInvalid'],
      ['empty header', ['', 'tok_1'], 'SignatureInvalid'],
      ['invalid expected', ['x', 'bad token!'], 'InvalidArgument'],
    ],
  },
  'new ReplayGuard': {
    call: (...a) => new kc.ReplayGuard(...a),
    args: [10, 60],
    types: ['int?', 'int?'],
    bad: [['capacity 0', [0, 60], 'InvalidArgument']],
  },
  'ReplayGuard#checkAndRecord': {
    call: (id, now) => new kc.ReplayGuard(10, 60).checkAndRecord(id, now),
    args: ['evt_1', NOW],
    types: ['string', 'i64?'],
    bad: [
      ['empty id', ['', NOW], 'InvalidArgument'],
      ['1025-byte id', ['e'.repeat(1025), NOW], 'InvalidArgument'],
    ],
  },
  '#signJwt': {
    call: m('signJwt'),
    args: ['acme', { sub: 'u1' }, 600, NOW],
    types: ['string', 'claims', 'int', 'i64?'],
    bad: [
      ['exp set', ['acme', { exp: 1 }, 600, NOW], 'InvalidArgument'],
      ['claims not an object', ['acme', '[1,2]', 600, NOW], 'InvalidArgument'],
      ['claims not JSON', ['acme', MARKER, 600, NOW], 'InvalidArgument'],
      ['ttl 0', ['acme', {}, 0, NOW], 'InvalidArgument'],
      ['ttl over a year', ['acme', {}, 367 * 86400, NOW], 'InvalidArgument'],
      ['empty tenant', ['', {}, 600, NOW], 'InvalidOwner'],
    ],
  },
  '#verifyJwt': {
    call: m('verifyJwt'),
    args: ['acme', jwt, { now: NOW }],
    types: ['string', 'string', 'object?'],
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
  '#issueCode': {
    call: m('issueCode'),
    args: ['user@example.com', NOW],
    types: ['string', 'i64?'],
    bad: [
      ['empty subject', ['', NOW], 'InvalidArgument'],
      ['NUL in subject', ['a\0b', NOW], 'InvalidArgument'],
    ],
  },
  '#verifyCode': {
    call: m('verifyCode'),
    args: ['user@example.com', issued.code, issued.record, NOW],
    types: ['string', 'string', 'string', 'i64?'],
    bad: [
      ['bad record', ['user@example.com', issued.code, MARKER, NOW], 'Malformed'],
      ['empty subject', ['', issued.code, issued.record, NOW], 'InvalidArgument'],
    ],
  },
  generateTotpSecret: { call: () => kc.generateTotpSecret(), args: [], types: [] },
  totpUri: {
    call: (...a) => kc.totpUri(...a),
    args: [TOTP_SECRET, 'alice@example.com', 'Acme'],
    types: ['string', 'string', 'string'],
    bad: [
      ['bad secret', [MARKER, 'a', 'b'], 'Malformed'],
      ['colon in account', [TOTP_SECRET, 'a:b', 'Acme'], 'InvalidArgument'],
      ['empty issuer', [TOTP_SECRET, 'a', ''], 'InvalidArgument'],
    ],
  },
  totpAt: {
    call: (...a) => kc.totpAt(...a),
    args: [TOTP_SECRET, NOW],
    types: ['string', 'i64?'],
    bad: [
      ['bad secret', ['1!', NOW], 'Malformed'],
      ['negative time', [TOTP_SECRET, -1], 'InvalidArgument'],
    ],
  },
  verifyTotpAt: {
    call: (...a) => kc.verifyTotpAt(...a),
    args: [TOTP_SECRET, totpCode, NOW, null],
    types: ['string', 'string', 'i64?', 'int?'],
    bad: [
      ['wrong code', [TOTP_SECRET, totpCode === '000000' ? '111111' : '000000', NOW], 'SignatureInvalid'],
      ['replayed', [TOTP_SECRET, totpCode, NOW, Math.floor(NOW / 30)], 'Replayed'],
      ['bad secret', [MARKER, totpCode, NOW], 'Malformed'],
    ],
  },
  generateDeliveryKeypair: { call: () => kc.generateDeliveryKeypair(), args: [], types: [] },
  deliveryPublicKey: {
    call: (sk) => kc.deliveryPublicKey(sk),
    args: [kp.privateKey],
    types: ['string'],
    bad: [['garbage', [MARKER], 'Malformed']],
  },
  deliveryKeyFingerprint: {
    call: (pk) => kc.deliveryKeyFingerprint(pk),
    args: [kp.publicKey],
    types: ['string'],
    bad: [
      ['garbage', [MARKER], 'Malformed'],
      ['private key as public', [kp.privateKey], 'Malformed'],
    ],
  },
  sealForDelivery: {
    call: (...a) => kc.sealForDelivery(...L(a)),
    args: [kp.publicKey, 'tenant-1', 'secret', kc.deliveryKeyFingerprint(kp.publicKey)],
    types: ['string', 'string', 'bytes', 'string?'],
    bad: [
      ['bad public key', [MARKER, 'tenant-1', 'x'], 'Malformed'],
      ['private key as public', [kp.privateKey, 'tenant-1', 'x'], 'Malformed'],
      ['empty owner', [kp.publicKey, '', 'x'], 'InvalidOwner'],
      ['1 MiB + 1', [kp.publicKey, 'o', { lazy: () => Buffer.alloc(1024 * 1024 + 1) }], 'TooLarge'],
      ['substituted key', [kc.generateDeliveryKeypair().publicKey, 'tenant-1', 'x', kc.deliveryKeyFingerprint(kp.publicKey)], 'ClaimMismatch'],
      ['garbage fingerprint', [kp.publicKey, 'tenant-1', 'x', MARKER], 'Malformed'],
    ],
  },
  openDelivery: {
    call: (...a) => kc.openDelivery(...a),
    args: [kp.privateKey, 'tenant-1', delivered],
    types: ['string', 'string', 'string'],
    bad: [
      ['wrong owner', [kp.privateKey, 'tenant-2', delivered], 'DecryptFailed'],
      ['wrong key', [kc.generateDeliveryKeypair().privateKey, 'tenant-1', delivered], 'DecryptFailed'],
      ['garbage blob', [kp.privateKey, 'tenant-1', 'kcd1.' + MARKER], 'Malformed'],
      ['bad private key', [MARKER, 'tenant-1', delivered], 'Malformed'],
      ['empty owner', [kp.privateKey, '', delivered], 'InvalidOwner'],
    ],
  },
  scrub: { call: (t) => kc.scrub(t), args: ['nothing secret here'], types: ['string'] },
  validateSlug: {
    call: (x) => kc.validateSlug(x),
    args: ['acme-co'],
    types: ['string'],
    bad: [
      ['too short', ['ab'], 'InvalidArgument'],
      ['uppercase', ['Acme'], 'InvalidArgument'],
      ['marker', [MARKER], 'InvalidArgument'],
    ],
  },
  validateEmail: {
    call: (x) => kc.validateEmail(x),
    args: ['a@example.com'],
    types: ['string'],
    bad: [
      ['no domain', ['a@b'], 'InvalidArgument'],
      ['newline', ['a@example.com\n'], 'InvalidArgument'],
      ['marker', [MARKER], 'InvalidArgument'],
    ],
  },
  '#pseudonymize': {
    call: m('pseudonymize'),
    args: ['203.0.113.7'],
    types: ['string'],
    bad: [['over 64 KiB', ['x'.repeat(64 * 1024 + 1)], 'TooLarge']],
  },
  '#pseudonymizeFor': {
    call: m('pseudonymizeFor'),
    args: ['acme', '203.0.113.7'],
    types: ['string', 'string'],
    bad: [
      ['empty tenant', ['', 'x'], 'InvalidOwner'],
      ['over 64 KiB', ['acme', 'x'.repeat(64 * 1024 + 1)], 'TooLarge'],
    ],
  },
  decryptLegacyPbkdf2Gcm: { call: (...a) => kc.decryptLegacyPbkdf2Gcm(...a), ...pbkdf2Gcm },
  decryptLegacyPbkdf2GcmAsync: { call: (...a) => kc.decryptLegacyPbkdf2GcmAsync(...a), ...pbkdf2Gcm },
  decryptOpensslEnc: { call: (...a) => kc.decryptOpensslEnc(...a), ...openssl },
  decryptOpensslEncAsync: { call: (...a) => kc.decryptOpensslEncAsync(...a), ...openssl },
})

const binEnv = K.sealBinary('t', 'x', 'c')
Object.assign(specs, {
  '#addKeyWithSecret': {
    call: m('addKeyWithSecret', true),
    args: [Buffer.alloc(32, 1)],
    types: ['bytes'],
    bad: [
      ['31 bytes', [Buffer.alloc(31)], 'InvalidArgument'],
      ['1025 bytes', [Buffer.alloc(1025)], 'InvalidArgument'],
    ],
  },
  '#stateOf': {
    call: m('stateOf'),
    args: [3],
    types: ['int'],
    bad: [
      ['unknown', [99], 'UnknownKey'],
      ['zero', [0], 'UnknownKey'],
    ],
  },
  '#sealBinary': { call: m('sealBinary'), ...seal },
  '#openBinary': {
    call: m('openBinary'),
    args: ['t', binEnv, 'c'],
    types: ['string', 'binary', 'bytes?'],
    bad: [
      ['wrong owner', ['u', binEnv, 'c'], 'DecryptFailed'],
      ['wrong context', ['t', binEnv, 'd'], 'DecryptFailed'],
      ['empty owner', ['', binEnv, 'c'], 'InvalidOwner'],
      ['truncated', ['t', binEnv.subarray(0, 20), 'c'], 'Malformed'],
      ['empty', ['t', Buffer.alloc(0), 'c'], 'Malformed'],
      ['retired kid', ['t', Buffer.from(envRetired.slice(4), 'base64url'), 'c'], 'KeyRetired'],
      ['unknown kid', ['t', Buffer.from(envUnknown.slice(4), 'base64url'), 'c'], 'UnknownKey'],
    ],
  },
  '#jwtSecret': {
    call: m('jwtSecret'),
    args: ['acme'],
    types: ['string'],
    bad: [
      ['empty tenant', [''], 'InvalidOwner'],
      ['1025-byte tenant', [longOwner], 'InvalidOwner'],
    ],
  },
  inspectBinary: {
    call: (e) => kc.inspectBinary(e),
    args: [binEnv],
    types: ['binary'],
    bad: [
      ['empty', [Buffer.alloc(0)], 'Malformed'],
      ['version 2', [Buffer.concat([Buffer.from([2, 0, 0, 0, 1]), Buffer.alloc(28)])], 'Malformed'],
    ],
  },
  deriveDeliveryKeypair: {
    call: (ikm) => kc.deriveDeliveryKeypair(ikm),
    args: [Buffer.alloc(32, 5)],
    types: ['binary'],
    bad: [['31 bytes', [Buffer.alloc(31)], 'InvalidArgument']],
  },
  totpRawAt: {
    call: (...a) => kc.totpRawAt(...a),
    args: [Buffer.from('12345678901234567890'), NOW, 30, 6, 'SHA1'],
    types: ['binary', 'i64?', 'int?', 'int?', 'string?'],
    bad: [
      ['empty key', [Buffer.alloc(0), NOW], 'InvalidArgument'],
      ['period 0', [Buffer.alloc(20), NOW, 0], 'InvalidArgument'],
      ['9 digits', [Buffer.alloc(20), NOW, 30, 9], 'InvalidArgument'],
      ['MD5', [Buffer.alloc(20), NOW, 30, 6, 'MD5'], 'InvalidArgument'],
      ['negative time', [Buffer.alloc(20), -1], 'InvalidArgument'],
    ],
  },
  totpStep: {
    call: (now) => kc.totpStep(now),
    args: [NOW],
    types: ['i64?'],
    bad: [['negative time', [-1], 'InvalidArgument']],
  },
})

/** The exported classes and, per class, the spec-name prefix of its members. */
Object.assign(specs, custodySpecs)
export const classes = ['Keyring', 'ReplayGuard', ...custodyClasses]

export const staticMethods = Object.keys(specs)
  .filter((n) => n.startsWith('Keyring.'))
  .map((n) => n.slice(8))
export const instanceMethods = Object.keys(specs)
  .filter((n) => n.startsWith('#'))
  .map((n) => n.slice(1))
export const freeFunctions = Object.keys(specs).filter((n) => /^[a-z]\w*$/.test(n))
export const replayGuardMethods = Object.keys(specs)
  .filter((n) => n.startsWith('ReplayGuard#'))
  .map((n) => n.slice('ReplayGuard#'.length))
