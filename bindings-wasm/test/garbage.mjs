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
    case 'num':
      vals = vals.filter(([l]) => l !== 'number');
      return inv([
        ...vals,
        ['numeric string', '1'],
        ['NaN', NaN],
        ['Infinity', Infinity],
        ['negative', -1],
        ['fraction', 2.5],
        ['2^32', 2 ** 32],
      ]);
    default:
      throw new Fail(`unknown param type ${type}`);
  }
}

// Each entry: params (types) and valid(fx) -> arguments; `self` is a method's receiver.
function specs(kc) {
  const { Keyring } = kc;
  const fixture = () => {
    const kr = Keyring.generate();
    kr.addKey(); // kid 2, decrypt-only
    const env = kr.seal('t', 'x', 'c');
    const bin = kr.sealBinary('t', 'x', 'c');
    const api = kc.generateApiKey('obee');
    return { kr, env, bin, api };
  };
  const fn = (f, params, valid) => ({ call: (fx, a) => f(...a), params, valid });
  const method = (name, params, valid) => ({ call: (fx, a) => fx.kr[name](...a), params, valid });
  const S = {
    'Keyring.generate': fn((...a) => Keyring.generate(...a), [], () => []),
    'Keyring.parse': fn((...a) => Keyring.parse(...a), ['str'], (fx) => [fx.kr.export()]),
    'Keyring.fromSecret': fn((...a) => Keyring.fromSecret(...a), ['bytes', 'num?'], () => ['k'.repeat(32), 1]),
    'Keyring#export': method('export', [], () => []),
    'Keyring#addKey': method('addKey', [], () => []),
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
    randomBase62: fn(kc.randomBase62, ['num'], () => [8]),
    inviteCode: fn(kc.inviteCode, ['num'], () => [8]),
    generateApiKey: fn(kc.generateApiKey, ['str'], () => ['obee']),
    hashApiKey: fn(kc.hashApiKey, ['str'], (fx) => [fx.api.key]),
    verifyApiKey: fn(kc.verifyApiKey, ['str', 'str'], (fx) => [fx.api.key, fx.api.hash]),
    parseApiKey: fn(kc.parseApiKey, ['str'], (fx) => [fx.api.key]),
  };
  return { S, fixture };
}

// Names the glue exports that are not part of the API (instantiation, memory management).
const GLUE = new Set(['default', 'initSync']);
const METHOD_GLUE = new Set(['constructor', 'free', '__destroy_into_raw', 'primaryKid']);

/** Every export and Keyring method/static, as spec names. */
export function exportedNames(kc) {
  const names = Object.keys(kc).filter((n) => !GLUE.has(n) && n !== 'Keyring');
  for (const n of Object.getOwnPropertyNames(kc.Keyring)) {
    if (!['length', 'name', 'prototype'].includes(n) && !n.startsWith('__')) names.push(`Keyring.${n}`);
  }
  for (const n of Object.getOwnPropertyNames(kc.Keyring.prototype)) {
    if (!METHOD_GLUE.has(n) && !n.startsWith('__')) names.push(`Keyring#${n}`);
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
