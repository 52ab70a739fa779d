// Garbage for every export of keycustody-wasm: each parameter of each function and
// method, replaced in turn by values of the wrong type, must give a KeycustodyError
// (KC_INVALID_ARGUMENT, or KC_MALFORMED for a string that is not well-formed UTF-16),
// never a trap (a wasm panic would kill the instance). A new export without an entry
// here fails the coverage test. No Node imports: runs in a browser page too.

class Fail extends Error {}
const check = (ok, msg) => {
  if (!ok) throw new Fail(msg);
};

const ANY_WRONG = [
  ['undefined', undefined],
  ['null', null],
  ['number', 42],
  ['float', 1.5],
  ['boolean', true],
  ['object', {}],
  ['array', []],
  ['function', () => 1],
  ['bigint', 1n],
  ['symbol', Symbol('s')],
  ['ArrayBuffer', new ArrayBuffer(4)],
  ['Uint16Array', new Uint16Array(2)],
  ['DataView', new DataView(new ArrayBuffer(2))],
  ['String object', Object('abc')],
  ['array of bytes', [1, 2, 3]],
];
const LONE_SURROGATE = ['lone surrogate', 'a\ud800b'];

// Wrong values per parameter type: [label, value, expected code].
function wrong(type) {
  const optional = type.endsWith('?');
  const base = type.replace('?', '');
  let vals = ANY_WRONG.filter(([l]) => !(optional && (l === 'undefined' || l === 'null')));
  const inv = (v) => v.map(([l, x]) => [l, x, 'KC_INVALID_ARGUMENT']);
  switch (base) {
    case 'str':
      return [...inv([...vals, ['Uint8Array', new Uint8Array(2)]]), [...LONE_SURROGATE, 'KC_MALFORMED']];
    case 'bytes':
      return [...inv(vals), [...LONE_SURROGATE, 'KC_MALFORMED']];
    case 'u8':
      return inv([...vals, ['string', 'abc']]);
    case 'num': // u32
    case 'u64': // non-negative safe integer
    case 'int': // safe integer (Unix seconds may be negative)
      vals = vals.filter(([l]) => l !== 'number' && l !== 'float');
      return inv([
        ...vals,
        ['numeric string', '1'],
        ['NaN', NaN],
        ['Infinity', Infinity],
        ['fraction', 2.5],
        ...(base === 'int' ? [] : [['negative', -1]]),
        ...(base === 'num' ? [['2^32', 2 ** 32]] : [['2^53', 2 ** 53]]),
      ]);
    case 'claims': // an object or its JSON text
      return [
        ...inv(vals.filter(([l]) => !['object', 'ArrayBuffer', 'Uint16Array', 'DataView', 'String object'].includes(l))),
        ['object with a BigInt', { a: 1n }, 'KC_INVALID_ARGUMENT'],
        [...LONE_SURROGATE, 'KC_MALFORMED'],
      ];
    case 'jwtopts': // options object of verifyJwt
      return [
        ...inv([['number', 42], ['boolean', true], ['array', []], ['function', () => 1], ['bigint', 1n], ['symbol', Symbol('s')], ['string', 'abc']]),
        ...inv([['audience: 5', { audience: 5 }], ['issuer: {}', { issuer: {} }], ['leeway: -1', { leeway: -1 }], ['leeway: 1.5', { leeway: 1.5 }], ['now: "1"', { now: '1' }]]),
        ['audience: lone surrogate', { audience: 'a\ud800' }, 'KC_MALFORMED'],
      ];
    case 'headers': // Headers or a plain object of header names to string | string[]
      return [
        ...inv([...vals.filter(([l]) => l !== 'object'), ['Uint8Array', new Uint8Array(2)], ['string', 'webhook-id: m']]),
        ...inv([['array of pairs', [['webhook-id', 'msg_1']]], ['value: number', { 'webhook-id': 1 }], ['value: [1]', { 'webhook-id': [1] }], ['entries() of non-pairs', { entries: () => ['webhook-id'].values() }]]),
        ['no webhook headers', {}, 'KC_MALFORMED'],
        ['value: lone surrogate', { 'webhook-id': 'a\ud800b' }, 'KC_MALFORMED'],
      ];
    case 'keyring': // a Keyring (checked in keyring.js)
      return inv([...vals, ['string', 'abc'], ['Uint8Array', new Uint8Array(2)], ['a keyring-like object', { __wbg_ptr: 1 }]]);
    case 'params': // Pbkdf2GcmParams
      return inv([
        ['number', 42], ['boolean', true], ['array', []], ['function', () => 1], ['bigint', 1n], ['symbol', Symbol('s')], ['string', 'abc'],
        ['iterations: -1', { iterations: -1 }], ['saltLen: "16"', { saltLen: '16' }], ['ivLen: 1.5', { ivLen: 1.5 }],
      ]);
    default:
      throw new Fail(`unknown param type ${type}`);
  }
}

const NOW = 1700000000;
const WHSEC = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const TOTP = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
// PBKDF2-SHA256 (1000 iterations, password "pw") + AES-256-GCM of "legacy secret" (node:crypto).
const LEGACY_BLOB = 'AQEBAQEBAQEBAQEBAQEBAQICAgICAgICAgICAit53DXJ+MvbbGAUsJ7qo4iq8dSR+HyYyKhGEKko';
// `openssl enc -aes-256-cbc -pbkdf2 -iter 1000 -pass pass:pw` of "openssl secret".
const OPENSSL_BLOB = new Uint8Array(
  '53616c7465645f5fe023088f91be88ddac3d200feb553e7acf24a531a5f89c47'.match(/../g).map((h) => parseInt(h, 16)),
);

// Each entry: params (types) and valid(fx) -> arguments; `self` is a method's receiver.
function specs(kc) {
  const { Keyring } = kc;
  const fixture = () => {
    const kr = Keyring.generate();
    kr.addKey(); // kid 2, decrypt-only
    const env = kr.seal('t', 'x', 'c');
    const bin = kr.sealBinary('t', 'x', 'c');
    const api = kc.generateApiKey('obee');
    const guard = new kc.ReplayGuard(10, 60);
    const dk = kc.generateDeliveryKeypair();
    const issued = kr.issueCode('user@example.com', NOW);
    const jwt = kr.signJwt('acme', { sub: 'u' }, 600, NOW);
    const std = kc.signStandardWebhook('{}', 'msg_1', NOW, WHSEC);
    const stripe = kc.signStripePayload('{}', 'whsec_x', NOW);
    return { kr, env, bin, api, guard, dk, issued, jwt, std, stripe };
  };
  const fn = (f, params, valid) => ({ call: (fx, a) => f(...a), params, valid });
  const method = (name, params, valid) => ({ call: (fx, a) => fx.kr[name](...a), params, valid });
  const S = {
    'Keyring.generate': fn((...a) => Keyring.generate(...a), [], () => []),
    'Keyring.parse': fn((...a) => Keyring.parse(...a), ['str'], (fx) => [fx.kr.export()]),
    'Keyring.fromSecret': fn((...a) => Keyring.fromSecret(...a), ['bytes', 'num?'], () => ['k'.repeat(32), 1]),
    'Keyring#export': method('export', [], () => []),
    'Keyring#addKey': method('addKey', [], () => []),
    'Keyring#addKeyWithSecret': method('addKeyWithSecret', ['bytes'], () => ['s'.repeat(32)]),
    'Keyring#rotate': method('rotate', [], () => []),
    'Keyring#kids': method('kids', [], () => []),
    'Keyring#toString': method('toString', [], () => []),
    'Keyring#promote': method('promote', ['num'], () => [2]),
    'Keyring#retire': method('retire', ['num'], () => [2]),
    'Keyring#remove': method('remove', ['num'], () => [2]),
    'Keyring#stateOf': method('stateOf', ['num'], () => [1]),
    'Keyring#seal': method('seal', ['str', 'bytes', 'bytes?'], () => ['t', 'x', 'c']),
    'Keyring#sealBinary': method('sealBinary', ['str', 'bytes', 'bytes?'], () => ['t', 'x', 'c']),
    'Keyring#open': method('open', ['str', 'str', 'bytes?'], (fx) => ['t', fx.env, 'c']),
    'Keyring#openText': method('openText', ['str', 'str', 'bytes?'], (fx) => ['t', fx.env, 'c']),
    'Keyring#openBinary': method('openBinary', ['str', 'u8', 'bytes?'], (fx) => ['t', fx.bin, 'c']),
    'Keyring#needsRewrap': method('needsRewrap', ['str'], (fx) => [fx.env]),
    'Keyring#rewrap': method('rewrap', ['str', 'str', 'bytes?'], (fx) => ['t', fx.env, 'c']),
    'Keyring#deriveKey': method('deriveKey', ['str', 'str', 'num?'], () => ['p', 't', 32]),
    inspect: fn(kc.inspect, ['str'], (fx) => [fx.env]),
    inspectBinary: fn(kc.inspectBinary, ['u8'], (fx) => [fx.bin]),
    constantTimeEqual: fn(kc.constantTimeEqual, ['bytes', 'bytes'], () => ['a', 'a']),
    randomToken: fn(kc.randomToken, ['num?'], () => [32]),
    randomBase62: fn(kc.randomBase62, ['num?'], () => [8]),
    inviteCode: fn(kc.inviteCode, ['num'], () => [8]),
    randomString: fn(kc.randomString, ['str', 'num'], () => ['abc', 8]),
    generateApiKey: fn(kc.generateApiKey, ['str'], () => ['obee']),
    hashApiKey: fn(kc.hashApiKey, ['str'], (fx) => [fx.api.key]),
    verifyApiKey: fn(kc.verifyApiKey, ['str', 'str'], (fx) => [fx.api.key, fx.api.hash]),
    parseApiKey: fn(kc.parseApiKey, ['str'], (fx) => [fx.api.key]),
    // Platform pieces.
    'Keyring#signJwt': method('signJwt', ['str', 'claims', 'u64', 'int?'], () => ['acme', { sub: 'u' }, 600, NOW]),
    'Keyring#verifyJwt': method('verifyJwt', ['str', 'str', 'jwtopts?'], (fx) => ['acme', fx.jwt, { now: NOW + 1 }]),
    'Keyring#jwtSecret': method('jwtSecret', ['str'], () => ['acme']),
    'Keyring#issueCode': method('issueCode', ['str', 'int?'], () => ['user@example.com', NOW]),
    'Keyring#verifyCode': method('verifyCode', ['str', 'str', 'str', 'int?'], (fx) => [
      'user@example.com', fx.issued.code, fx.issued.record, NOW + 1,
    ]),
    'Keyring#pseudonymize': method('pseudonymize', ['str'], () => ['203.0.113.7']),
    'Keyring#pseudonymizeFor': method('pseudonymizeFor', ['str', 'str'], () => ['acme', '203.0.113.7']),
    'new ReplayGuard': fn((...a) => new kc.ReplayGuard(...a), ['num?', 'u64?'], () => [10, 60]),
    'ReplayGuard#checkAndRecord': {
      call: (fx, a) => fx.guard.checkAndRecord(...a),
      params: ['str', 'int?'],
      valid: () => ['evt_1', NOW],
    },
    generateDeliveryKeypair: fn(kc.generateDeliveryKeypair, [], () => []),
    deriveDeliveryKeypair: fn(kc.deriveDeliveryKeypair, ['bytes'], () => ['k'.repeat(32)]),
    deliveryPublicKey: fn(kc.deliveryPublicKey, ['str'], (fx) => [fx.dk.privateKey]),
    deliveryKeyFingerprint: fn(kc.deliveryKeyFingerprint, ['str'], (fx) => [fx.dk.publicKey]),
    sealForDelivery: fn(kc.sealForDelivery, ['str', 'str', 'bytes', 'str?'], (fx) => [
      fx.dk.publicKey, 'acme', 'sk-x', kc.deliveryKeyFingerprint(fx.dk.publicKey),
    ]),
    openDelivery: fn(kc.openDelivery, ['str', 'str', 'str'], (fx) => [
      fx.dk.privateKey, 'acme', kc.sealForDelivery(fx.dk.publicKey, 'acme', 'sk-x'),
    ]),
    signStripePayload: fn(kc.signStripePayload, ['bytes', 'str', 'int'], () => ['{}', 'whsec_x', NOW]),
    verifyStripeSignature: fn(kc.verifyStripeSignature, ['bytes', 'str', 'str', 'u64?', 'int?'], (fx) => [
      '{}', fx.stripe, 'whsec_x', 300, NOW,
    ]),
    signStandardWebhook: fn(kc.signStandardWebhook, ['bytes', 'str', 'int', 'str'], () => ['{}', 'msg_1', NOW, WHSEC]),
    verifyStandardWebhook: fn(
      kc.verifyStandardWebhook,
      ['bytes', 'headers', 'str', 'u64?', 'int?'],
      (fx) => ['{}', { 'webhook-id': 'msg_1', 'webhook-timestamp': String(NOW), 'webhook-signature': fx.std }, WHSEC, 300, NOW],
    ),
    generateStandardWebhookSecret: fn(kc.generateStandardWebhookSecret, [], () => []),
    verifyTelegramSecret: fn(kc.verifyTelegramSecret, ['str', 'str'], () => ['tok-1', 'tok-1']),
    generateTotpSecret: fn(kc.generateTotpSecret, [], () => []),
    totpUri: fn(kc.totpUri, ['str', 'str', 'str'], () => [TOTP, 'alice@example.com', 'Acme']),
    totpAt: fn(kc.totpAt, ['str', 'int?'], () => [TOTP, 59]),
    totpRawAt: fn(kc.totpRawAt, ['bytes', 'int?', 'u64?', 'num?', 'str?'], () => ['12345678901234567890', 59, 30, 8, 'SHA1']),
    totpStep: fn(kc.totpStep, ['int?'], () => [NOW]),
    verifyTotpAt: fn(kc.verifyTotpAt, ['str', 'str', 'int?', 'u64?'], () => [TOTP, kc.totpAt(TOTP, NOW), NOW, 0]),
    scrub: fn(kc.scrub, ['str'], () => ['nothing secret here']),
    validateSlug: fn(kc.validateSlug, ['str'], () => ['acme']),
    validateEmail: fn(kc.validateEmail, ['str'], () => ['a@example.com']),
    decryptLegacyPbkdf2Gcm: fn(kc.decryptLegacyPbkdf2Gcm, ['str', 'bytes', 'params?'], () => [
      LEGACY_BLOB, 'pw', { iterations: 1000 },
    ]),
    decryptOpensslEnc: fn(kc.decryptOpensslEnc, ['u8', 'bytes', 'num?'], () => [OPENSSL_BLOB, 'pw', 1000]),
    // custody (issue 14 item 6)
    'Keyring#sealKeyring': method('sealKeyring', ['str', 'keyring'], () => ['t', Keyring.generate()]),
    'Keyring#openKeyring': method('openKeyring', ['str', 'str'], (fx) => ['t', fx.kr.sealKeyring('t', Keyring.generate())]),
    'WrappedKeyring.parse': fn((...a) => kc.WrappedKeyring.parse(...a), ['str'], (fx) => [
      new kc.PendingWrap(fx.kr, 'aws-kms', 'k', 't').finish(new Uint8Array([1])).toText(),
    ]),
    'WrappedKeyring#toText': { call: (fx) => new kc.PendingWrap(fx.kr, 'aws-kms', 'k', 't').finish(new Uint8Array([1])).toText(), params: [], valid: () => [] },
    'WrappedKeyring#expectOwner': {
      call: (fx, a) => new kc.PendingWrap(fx.kr, 'aws-kms', 'k', 't').finish(new Uint8Array([1])).expectOwner(...a),
      params: ['str'],
      valid: () => ['t'],
    },
    'WrappedKeyring#openWithDek': {
      call: (fx, a) => fx.wrapped.openWithDek(...a),
      params: ['u8'],
      valid: (fx) => {
        const p = new kc.PendingWrap(fx.kr, 'aws-kms', 'k', 't');
        const dek = p.dek;
        fx.wrapped = p.finish(new Uint8Array([1]));
        return [dek];
      },
    },
    'WrappedKeyring#openWithPassphrase': {
      call: (fx, a) => fx.pwWrapped.openWithPassphrase(...a),
      params: ['bytes'],
      valid: (fx) => {
        fx.pwWrapped = kc.wrapWithPassphrase(fx.kr, 'pw', 't', 8, 1, 1);
        return ['pw'];
      },
    },
    'new PendingWrap': fn((...a) => new kc.PendingWrap(...a), ['keyring', 'str', 'str', 'str'], (fx) => [fx.kr, 'aws-kms', 'k', 't']),
    'PendingWrap#finish': { call: (fx, a) => new kc.PendingWrap(fx.kr, 'aws-kms', 'k', 't').finish(...a), params: ['u8'], valid: () => [new Uint8Array([1])] },
    wrapWithPassphrase: fn(kc.wrapWithPassphrase, ['keyring', 'bytes', 'str', 'num?', 'num?', 'num?'], (fx) => [fx.kr, 'pw', 't', 8, 1, 1]),
    isWrappedKeyring: fn(kc.isWrappedKeyring, ['str'], () => ['{}']),
    'new TenantKeyringCache': fn((...a) => new kc.TenantKeyringCache(...a), ['num?', 'num?'], () => [4, 60]),
    'TenantKeyringCache#get': { call: (fx, a) => new kc.TenantKeyringCache(4, 60).get(...a), params: ['str', 'u64?'], valid: () => ['t', 0] },
    'TenantKeyringCache#insert': { call: (fx, a) => new kc.TenantKeyringCache(4, 60).insert(...a), params: ['str', 'keyring', 'u64?'], valid: (fx) => ['t', fx.kr, 0] },
    'TenantKeyringCache#invalidate': { call: (fx, a) => new kc.TenantKeyringCache(4, 60).invalidate(...a), params: ['str'], valid: () => ['t'] },
    'TenantKeyringCache#clear': { call: () => new kc.TenantKeyringCache(4, 60).clear(), params: [], valid: () => [] },
  };
  return { S, fixture };
}

// Names the glue exports that are not part of the API (instantiation, memory management).
const GLUE = new Set(['default', 'initSync']);
const METHOD_GLUE = new Set(['constructor', 'free', '__destroy_into_raw']);
const isClass = (v) => typeof v === 'function' && /^class\b/.test(Function.prototype.toString.call(v));

/** Every exported function, class constructor, static and method, as spec names. */
export function exportedNames(kc) {
  const names = [];
  for (const [name, v] of Object.entries(kc)) {
    // `__` names are internal and untyped: `__simd128()` (no arguments; test/fast.test.mjs)
    // and the typed entries that keyring.js calls (test/fast.test.mjs).
    if (GLUE.has(name) || name.startsWith('__')) continue;
    if (!isClass(v)) {
      names.push(name);
      continue;
    }
    // Keyring and WrappedKeyring have no usable constructor (it throws); other classes are made with `new`.
    if (name !== 'Keyring' && name !== 'WrappedKeyring') names.push(`new ${name}`);
    // Statics and methods along the class chain (keyring.js's Keyring extends the generated one).
    const seen = new Set();
    for (let c = v; c !== Function.prototype; c = Object.getPrototypeOf(c)) {
      for (const n of Object.getOwnPropertyNames(c)) {
        if (!['length', 'name', 'prototype'].includes(n) && !n.startsWith('__')) seen.add(`${name}.${n}`);
      }
      for (const [n, d] of Object.entries(Object.getOwnPropertyDescriptors(c.prototype))) {
        if (METHOD_GLUE.has(n) || n.startsWith('__') || d.get) continue; // getters take no arguments
        seen.add(`${name}#${n}`);
      }
    }
    names.push(...seen);
  }
  return names.sort();
}

/** [name, fn] pairs: a coverage test, then one test per export. */
export function garbageSuite(kc) {
  const { S, fixture } = specs(kc);
  const tests = [];
  tests.push([
    'every export has a garbage spec',
    () => {
      const missing = exportedNames(kc).filter((n) => !(n in S));
      check(missing.length === 0, `exports without a garbage spec: ${missing.join(', ')}`);
      const stale = Object.keys(S).filter((n) => !exportedNames(kc).includes(n));
      check(stale.length === 0, `specs for names that are not exported: ${stale.join(', ')}`);
    },
  ]);
  for (const [name, spec] of Object.entries(S)) {
    tests.push([
      name,
      () => {
        // The valid call works, so a refusal below is caused by the one wrong argument.
        const fx0 = fixture();
        spec.call(fx0, spec.valid(fx0));
        spec.params.forEach((type, i) => {
          for (const [label, value, code] of wrong(type)) {
            const fx = fixture();
            const args = spec.valid(fx);
            args[i] = value;
            let err;
            try {
              spec.call(fx, args);
            } catch (e) {
              err = e;
            }
            const where = `${name} arg ${i} (${type}) = ${label}`;
            check(err !== undefined, `${where}: accepted`);
            check(err?.name === 'KeycustodyError', `${where}: not a KeycustodyError: ${err}`);
            check(err.code === code, `${where}: ${err.code}, want ${code}`);
            check(typeof err.kind === 'string' && err.message.length > 0, `${where}: no kind/message`);
          }
        });
      },
    ]);
  }
  return tests;
}
