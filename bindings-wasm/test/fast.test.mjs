// The fast paths of keyring.js (typed wasm entries for seal, open and openText) against the
// generated methods they bypass: the same envelopes, plaintexts and typed errors for every
// accepted argument type. The general side runs in a child process where
// String.prototype.isWellFormed is missing, so keyring.js calls the generated methods.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as kc from '../node.js';
import { run, toHex } from './fast-plan.mjs';

const enc = new TextEncoder();
const isUtf8 = (hex) => {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(hex.match(/../g) ?? [], (x) => parseInt(x, 16)));
    return true;
  } catch {
    return false;
  }
};
const u8 = (b) => ({ t: 'u8', v: toHex(b) });
const str = (v) => ({ t: 'str', v });
const UNDEF = { t: 'undef' };
const NULL = { t: 'null' };

const PLAINTEXTS = [
  u8(new Uint8Array(0)),
  u8(crypto.getRandomValues(new Uint8Array(64))),
  u8(crypto.getRandomValues(new Uint8Array(1000))),
  u8(Uint8Array.of(0xff, 0xfe, 0x00)), // not UTF-8: openText refuses it (as random bytes)
  u8(enc.encode('utf-8 bytes ✓')),
  str(''),
  str('sk-or-v1-0123456789abcdef'),
  str('clé 🔑 ключ'),
  str('a real \ufffd is fine'),
  str('\ufeffa leading BOM is kept'),
  // Either side of the small path's plaintext field (2048 bytes): the larger take the typed entries.
  u8(crypto.getRandomValues(new Uint8Array(2048))),
  u8(crypto.getRandomValues(new Uint8Array(2049))),
  str('é'.repeat(1024)),
  str('é'.repeat(1024) + 'x'),
];
const CONTEXTS = [
  UNDEF, NULL, u8(enc.encode('openrouter_key')), str('openrouter_key'), str(''), str('contexte é'),
  // Either side of the small path's context field (1024 bytes).
  u8(new Uint8Array(1024).fill(7)), u8(new Uint8Array(1025).fill(7)), str('ü'.repeat(513)),
];
// The last two: either side of the small path's owner field (1024 bytes, MAX_OWNER_LEN): a
// longer owner is refused by core, on the typed path (the bad calls below).
const OWNERS = ['tenant-42', 'ünïcødé owner', 'o'.repeat(1024), 'ø'.repeat(512)];

function plan() {
  const cases = [];
  for (const owner of OWNERS) {
    for (const plaintext of PLAINTEXTS) {
      for (const context of CONTEXTS) cases.push({ owner: str(owner), plaintext, context });
    }
  }
  const some = { t: 'u8', v: '00' };
  const bad = [
    ['seal', [str('a\ud800'), str('x'), UNDEF]],
    ['seal', [str('t'), str('x\udc00'), UNDEF]],
    ['seal', [str('t'), str('x'), str('\ud800c')]],
    ['seal', [{ t: 'num', v: 42 }, str('x'), UNDEF]],
    ['seal', [str('t'), { t: 'obj', v: { a: 1 } }, UNDEF]],
    ['seal', [str('t'), str('x'), { t: 'num', v: 7 }]],
    ['seal', [str(''), str('x'), UNDEF]],
    ['seal', [str('o'.repeat(5000)), str('x'), UNDEF]],
    ['open', [str('t'), str('kc1.AAAA'), UNDEF]],
    ['open', [str('t'), str('nope'), UNDEF]],
    ['open', [str('t'), str('kc1.\ud800'), UNDEF]],
    ['open', [str('t'), some, UNDEF]],
    ['openText', [str('t'), { t: 'num', v: 1 }, UNDEF]],
    ['openText', [str('\udfff'), str('kc1.AAAA'), UNDEF]],
  ];
  return { cases, bad };
}

test('the shipped build has 128-bit SIMD', () => {
  assert.equal(kc.__simd128(), true);
});

test('__benchCoreCalls (make bench-wasm only) runs core calls and throws typed errors', () => {
  const kr = kc.Keyring.generate();
  const p = new Uint8Array(64).fill(7);
  const env = kr.seal('t', p, 'c');
  const ctx = new TextEncoder().encode('c');
  assert.equal(kc.__benchCoreCalls(kr, 0, 't', p, env, ctx, 3), undefined);
  assert.equal(kc.__benchCoreCalls(kr, 1, 't', p, env, ctx, 3), undefined);
  const kind = (f) => { try { f(); } catch (e) { return e.code; } return 'no error'; };
  assert.equal(kind(() => kc.__benchCoreCalls(kr, 2, 't', p, env, ctx, 1)), 'KC_INVALID_ARGUMENT');
  assert.equal(kind(() => kc.__benchCoreCalls(kr, 1, 'other', p, env, ctx, 1)), 'KC_DECRYPT_FAILED');
  assert.equal(kind(() => kc.__benchCoreCalls(kr, 0, '', p, env, ctx, 1)), kind(() => kr.seal('', p, 'c')));
  // n = 0 runs nothing: even an envelope that would not open is not looked at.
  assert.equal(kc.__benchCoreCalls(kr, 1, 't', p, 'nope', ctx, 0), undefined);
});

test('the package Keyring is keyring.js: a subclass of the generated class, which is left as generated', async () => {
  const gen = await import('../pkg/keycustody_wasm.js');
  const K = kc.Keyring;
  assert.notEqual(K, gen.Keyring);
  assert.equal(Object.getPrototypeOf(K), gen.Keyring);
  // Its own members are the three fast paths, the two custody methods that check or adopt a
  // keyring (sealKeyring, openKeyring), and the three factories, nothing else.
  assert.deepEqual(Object.getOwnPropertyNames(K.prototype).sort(), ['constructor', 'open', 'openKeyring', 'openText', 'seal', 'sealKeyring']);
  assert.deepEqual(Object.getOwnPropertyNames(K).filter((n) => typeof K[n] === 'function').sort(), ['fromSecret', 'generate', 'parse']);
  // The generated class keeps every generated method (nothing deleted or replaced) and has
  // no typed entry: those are free functions that only keyring.js calls.
  const G = gen.Keyring.prototype;
  for (const m of ['seal', 'open', 'openText', 'sealBinary', 'openBinary', 'addKey', 'addKeyWithSecret']) {
    assert.match(G[m].toString(), /wasm\.keyring_/, `${m} is the generated method`);
  }
  assert.deepEqual(Object.getOwnPropertyNames(G).filter((n) => /^__(seal|open)/.test(n)), []);
  for (const f of ['__keyringSealBytes', '__keyringSealText', '__keyringOpen', '__keyringOpenText']) {
    assert.equal(typeof gen[f], 'function', f);
  }
  // Every way to make a keyring gives the package's class, with the fast paths.
  const kr = K.generate();
  for (const k of [kr, K.parse(kr.export()), K.fromSecret('k'.repeat(32)), K.fromSecret(new Uint8Array(32), 7)]) {
    assert.ok(k instanceof K);
    assert.equal(Object.getPrototypeOf(k), K.prototype);
  }
  // The factories refuse bad input with the generated typed errors.
  assert.throws(() => K.parse('{'), { name: 'KeycustodyError', code: 'KC_MALFORMED' });
  assert.throws(() => K.fromSecret('short'), { name: 'KeycustodyError', code: 'KC_INVALID_ARGUMENT' });
  assert.throws(() => K.fromSecret('k'.repeat(32), 0), { name: 'KeycustodyError', code: 'KC_INVALID_ARGUMENT' });
  // A typed entry refuses a receiver that is not a keyring (the glue's class check).
  assert.throws(() => gen.__keyringSealText({}, 't', 'x'));
});

test('the fast paths are taken for accepted types, the generated methods otherwise', async (t) => {
  const gen = await import('../pkg/keycustody_wasm.js');
  // Spies on the generated methods (calling through): keyring.js reaches them by `super`.
  const spy = {};
  for (const m of ['seal', 'open', 'openText']) spy[m] = t.mock.method(gen.Keyring.prototype, m);
  const count = () => ['seal', 'open', 'openText'].map((m) => spy[m].mock.callCount());
  const kr = kc.Keyring.generate();
  const env = kr.seal('t', 'x', 'c');
  kr.seal('t', new Uint8Array(3));
  kr.seal('t', 'x', new Uint8Array(1));
  kr.seal('t', 'x', null);
  assert.equal(kr.openText('t', env, 'c'), 'x');
  assert.deepEqual(kr.open('t', kr.seal('t', 'y', new Uint8Array(1)), Uint8Array.of(0)), Uint8Array.of(0x79));
  assert.deepEqual(count(), [0, 0, 0], 'accepted types take the typed entries');
  // Each argument a typed entry cannot take sends the call to the generated method.
  const general = [
    [() => kr.seal('a\ud800', 'x'), 'seal'],
    [() => kr.seal('t', 'x\udc00'), 'seal'],
    [() => kr.seal('t', 'x', '\ud800'), 'seal'],
    [() => kr.seal(1, 'x'), 'seal'],
    [() => kr.seal('t', [1, 2]), 'seal'],
    [() => kr.seal('t', 'x', 7), 'seal'],
    [() => kr.open('t', 1), 'open'],
    [() => kr.open('t', env, '\udfff'), 'open'],
    [() => kr.openText('\ud800', env), 'openText'],
    [() => kr.openText('t', new Uint8Array(1)), 'openText'],
  ];
  for (const [f, m] of general) {
    const before = spy[m].mock.callCount();
    assert.throws(f, { name: 'KeycustodyError' });
    assert.equal(spy[m].mock.callCount(), before + 1, `${f} went to the generated ${m}`);
  }
});

test('fast and general entries agree: envelopes cross, plaintexts and errors match', () => {
  const keyring = kc.Keyring.generate().export();
  const { cases, bad } = plan();
  // Both sides seal; each then opens the other's envelopes.
  const mine = run(kc, { keyring, cases, envelopes: [], bad });
  const child = spawnSync(process.execPath, [fileURLToPath(new URL('./fast-child.mjs', import.meta.url))], {
    input: JSON.stringify({ keyring, cases, envelopes: mine.sealed, bad }),
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  assert.equal(child.status, 0, child.stderr);
  const theirs = JSON.parse(child.stdout);
  const back = run(kc, { keyring, cases, envelopes: theirs.sealed, bad: [] });

  const kr = kc.Keyring.parse(keyring);
  cases.forEach((c, i) => {
    const want = c.plaintext.t === 'u8' ? c.plaintext.v : toHex(enc.encode(c.plaintext.v));
    for (const [side, o] of [['general opens fast', theirs.opened[i]], ['fast opens general', back.opened[i]]]) {
      assert.deepEqual(o.bytes, { ok: want }, `${side}, case ${i}`);
      if (!isUtf8(want)) {
        assert.deepEqual(o.text.err?.slice(1), ['KC_MALFORMED', 'Malformed', 'Utf8'], `${side}, case ${i}`);
      } else {
        assert.equal(toHex(enc.encode(o.text.ok)), want, `${side}, case ${i}`);
      }
    }
    // The envelope is bound to its owner and context on both paths.
    assert.throws(() => kr.open('someone-else', mine.sealed[i]), { code: 'KC_DECRYPT_FAILED' });
  });
  assert.deepEqual(mine.errors, theirs.errors);
  for (const e of mine.errors) assert.ok(e.err, `a bad call was accepted: ${JSON.stringify(e)}`);
  // The codes themselves, so that agreeing on a wrong answer cannot pass.
  assert.deepEqual(
    mine.errors.map((e) => e.err[1]),
    ['KC_MALFORMED', 'KC_MALFORMED', 'KC_MALFORMED', 'KC_INVALID_ARGUMENT', 'KC_INVALID_ARGUMENT',
      'KC_INVALID_ARGUMENT', 'KC_INVALID_OWNER', 'KC_INVALID_OWNER', 'KC_MALFORMED', 'KC_MALFORMED',
      'KC_MALFORMED', 'KC_INVALID_ARGUMENT', 'KC_INVALID_ARGUMENT', 'KC_MALFORMED'],
  );
});

test('the general side really takes the general entries', () => {
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', `
    delete String.prototype.isWellFormed;
    const kc = await import(${JSON.stringify(new URL('../node.js', import.meta.url).href)});
    const gen = await import(${JSON.stringify(new URL('../pkg/keycustody_wasm.js', import.meta.url).href)});
    // Spies on the generated methods: every call below must reach them.
    let n = 0;
    for (const m of ['seal', 'open', 'openText']) {
      const f = gen.Keyring.prototype[m];
      gen.Keyring.prototype[m] = function (...a) { n++; return f.apply(this, a); };
    }
    const kr = kc.Keyring.generate();
    const env = kr.seal('t', 'x', 'c');
    kr.open('t', env, 'c');
    kr.openText('t', env, new TextEncoder().encode('c'));
    console.log(n === 3);
  `], { encoding: 'utf8' });
  assert.equal(child.status, 0, child.stderr);
  assert.equal(child.stdout.trim(), 'true');
});

// The small path (keyring.js, src/keyring.rs "small-call entries"): its inputs go into the
// scratch region, which holds nothing once the call has returned.
test('small calls pass their inputs through the scratch region and leave it wiped', async () => {
  const gen = await import('../pkg/keycustody_wasm.js');
  const [memory, at, ownerAt, contextAt, dataAt, outAt, len, failed] = gen.__scratch();
  assert.deepEqual([ownerAt, contextAt, dataAt, outAt, len, failed], [0, 1024, 2048, 4096, 8192, 2 ** 32 - 1]);
  const region = () => new Uint8Array(memory.buffer, at, len);
  // The input fields (everything before the output part) hold nothing between calls.
  const inputsWiped = () => region().subarray(0, outAt).every((b) => b === 0);
  const outHolds = (b) => Buffer.from(region().subarray(outAt)).indexOf(Buffer.from(b)) !== -1;
  const kr = kc.Keyring.generate();
  const pt = crypto.getRandomValues(new Uint8Array(64));
  // Core draws the nonce through crypto.getRandomValues, inside the call: the owner, context
  // and plaintext are in their fields then, and a seal made from there (user code re-entering
  // the package) takes the typed entries without disturbing the outer call.
  const orig = crypto.getRandomValues;
  let during = null;
  let inner = null;
  crypto.getRandomValues = function (a) {
    if (during === null) {
      const r = region();
      during = [
        new TextDecoder().decode(r.subarray(ownerAt, ownerAt + 9)),
        new TextDecoder().decode(r.subarray(contextAt, contextAt + 3)),
        Buffer.from(r.subarray(dataAt, dataAt + 64)).equals(Buffer.from(pt)),
      ];
      inner = kr.seal('inner', 'reentered');
    }
    return orig.call(this, a);
  };
  let env;
  try {
    env = kr.seal('tenant-42', pt, 'ctx');
  } finally {
    crypto.getRandomValues = orig;
  }
  assert.deepEqual(during, ['tenant-42', 'ctx', true]);
  assert.ok(inputsWiped(), 'the inputs are wiped after a seal');
  assert.ok(!outHolds(pt), 'the output part has no plaintext after a seal');
  assert.equal(kr.openText('inner', inner), 'reentered');
  assert.deepEqual(kr.open('tenant-42', env, 'ctx'), pt);
  assert.ok(inputsWiped(), 'the inputs are wiped after an open');
  assert.ok(!outHolds(pt), 'the opened plaintext is wiped from the output part');
  // A failed small call throws core's typed error and leaves the region wiped too.
  assert.throws(() => kr.open('tenant-43', env, 'ctx'), { name: 'KeycustodyError', code: 'KC_DECRYPT_FAILED' });
  assert.throws(() => kr.seal('', pt), { name: 'KeycustodyError', code: 'KC_INVALID_OWNER' });
  assert.ok(inputsWiped(), 'the inputs are wiped after failures');
  // Asked with no failure to report, the module says so (typed), rather than crash.
  assert.throws(() => { throw gen.__takeFailure(); }, { code: 'KC_INVALID_ARGUMENT' });
});

test('no copy of a sealed or opened plaintext stays in the module memory, on every path', async () => {
  const gen = await import('../pkg/keycustody_wasm.js');
  const memory = gen.__scratch()[0];
  const kr = kc.Keyring.generate();
  const found = (b) => Buffer.from(memory.buffer).indexOf(Buffer.from(b.subarray(0, 24))) !== -1;
  for (const n of [64, 2048, 2049, 100_000]) {
    const pt = new Uint8Array(n);
    for (let o = 0; o < n; o += 65536) crypto.getRandomValues(pt.subarray(o, o + 65536));
    const env = kr.seal('tenant-42', pt, 'ctx');
    assert.ok(!found(pt), `a sealed ${n}-byte plaintext`);
    assert.deepEqual(kr.open('tenant-42', env, 'ctx'), pt);
    assert.ok(!found(pt), `an opened ${n}-byte plaintext`);
    const hex = Buffer.from(pt.subarray(0, Math.min(n, 1000))).toString('hex');
    assert.equal(kr.openText('tenant-42', kr.seal('tenant-42', hex, 'ctx'), 'ctx'), hex);
    assert.ok(!found(enc.encode(hex)), `a ${hex.length}-character text plaintext`);
  }
});

test('hostile arguments (re-entering Proxies, disguised and detached arrays): the general results, the right owner', async () => {
  const gen = await import('../pkg/keycustody_wasm.js');
  const kr = kc.Keyring.generate();
  const env = kr.seal('t', 'secret', 'c');
  // Every trap makes small calls of its own before answering.
  const reenter = () => kr.open('inner', kr.seal('inner', new Uint8Array(8)));
  const proxy = new Proxy(new Uint8Array(4), {
    getPrototypeOf: () => (reenter(), Uint8Array.prototype),
    get: (t, p) => (reenter(), Reflect.get(t, p)),
  });
  const disguised = Object.setPrototypeOf(new Uint16Array([0x4142, 0x4344]), Uint8Array.prototype);
  const detached = new Uint8Array(8);
  structuredClone(detached.buffer, { transfer: [detached.buffer] });
  const result = (f) => {
    try {
      const v = f();
      return typeof v === 'string' ? 'string' : `bytes:${toHex(v)}`;
    } catch (e) {
      return `throw:${e.name}:${e.code}`;
    }
  };
  let sealed = 0;
  for (const [label, v] of [['proxy', proxy], ['disguised', disguised], ['detached', detached]]) {
    for (const [i, [name, args]] of [['seal', ['t', v, 'c']], ['seal', ['t', 'p', v]], ['open', ['t', env, v]], ['openText', ['t', env, v]]].entries()) {
      const fast = result(() => kr[name](...args));
      assert.equal(fast, result(() => gen.Keyring.prototype[name].apply(kr, args)), `${label}: call ${i}`);
      if (fast === 'string' && name === 'seal') {
        // Sealed for 't' and its context, whatever ran meanwhile.
        const out = kr.seal(...args);
        assert.equal(result(() => kr.open('t', out, args[2])), result(() => gen.Keyring.prototype.open.call(kr, 't', out, args[2])));
        assert.doesNotThrow(() => gen.Keyring.prototype.open.call(kr, 't', out, args[2]));
        sealed++;
      }
    }
  }
  assert.ok(sealed > 0);
  assert.ok(new Uint8Array(gen.__scratch()[0].buffer, gen.__scratch()[1], 4096).every((b) => b === 0), 'inputs wiped');
});

test('the small-call entries refuse lengths past their fields with a typed error, and leave the region wiped', async () => {
  const gen = await import('../pkg/keycustody_wasm.js');
  const [memory, at, , , , outAt, , failed] = gen.__scratch();
  const kr = kc.Keyring.generate();
  for (const lens of [[1025, 0, 0], [1, 1025, 0], [1, 0, 2049], [2 ** 32 - 1, 0, 0]]) {
    for (const f of [gen.__keyringSealSmall, gen.__keyringOpenSmall]) {
      assert.equal(f(kr, ...lens, false), failed, `${f.name} ${lens}`);
      assert.throws(() => { throw gen.__takeFailure(); }, { name: 'KeycustodyError', code: 'KC_INVALID_ARGUMENT' });
    }
  }
  // Not UTF-8 in the owner field: Malformed (Utf8), as from any other entry.
  new Uint8Array(memory.buffer, at, 1)[0] = 0xff;
  assert.equal(gen.__keyringSealSmall(kr, 1, 0, 0, false), failed);
  assert.throws(() => { throw gen.__takeFailure(); }, { code: 'KC_MALFORMED', malformedKind: 'Utf8' });
  assert.ok(new Uint8Array(memory.buffer, at, outAt).every((b) => b === 0));
});
