// The spec of every export for the garbage suite: a valid call, the type of each argument
// (`string`, `bytes` = string | Uint8Array, `int`; a trailing `?` = optional), and value-level
// bad calls with the core error kind each must give. New exports must be added here.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { kc, hex } from './helpers.mjs'

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
      ['bad key', [MARKER, '7886c2d72ee207e151b470b3c2519cc05b279cb6643d1c4139de27ca87331d53'], 'Malformed'],
      ['bad hash', ['obee_Ab12Cd34Ef56Gh78Ij90KlMnOpQrSt3XntTV', MARKER], 'Malformed'],
    ],
  },
}

export const staticMethods = Object.keys(specs)
  .filter((n) => n.startsWith('Keyring.'))
  .map((n) => n.slice(8))
export const instanceMethods = Object.keys(specs)
  .filter((n) => n.startsWith('#'))
  .map((n) => n.slice(1))
export const freeFunctions = Object.keys(specs).filter((n) => !n.startsWith('#') && !n.startsWith('Keyring.'))
