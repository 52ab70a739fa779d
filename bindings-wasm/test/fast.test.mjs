// The fast paths of fast.js (typed wasm entries for seal, open and openText) against the
// general entries they bypass: the same envelopes, plaintexts and typed errors for every
// accepted argument type. The general side runs in a child process where
// String.prototype.isWellFormed is missing, so fast.js leaves the generated methods alone.
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
];
const CONTEXTS = [UNDEF, NULL, u8(enc.encode('openrouter_key')), str('openrouter_key'), str(''), str('contexte é')];
const OWNERS = ['tenant-42', 'ünïcødé owner'];

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

test('fast.js is in place and its typed entries are not reachable', () => {
  const P = kc.Keyring.prototype;
  for (const m of ['seal', 'open', 'openText']) {
    assert.doesNotMatch(P[m].toString(), /wasm\.keyring_/, `${m} is the fast.js wrapper`);
  }
  assert.deepEqual(Object.getOwnPropertyNames(P).filter((n) => n.startsWith('__sealB') || n.startsWith('__sealT') || n.startsWith('__open')), []);
});

test('fast and general entries agree: envelopes cross, plaintexts and errors match', () => {
  const keyring = kc.Keyring.generate().export();
  const { cases, bad } = plan();
  // Both sides seal; each then opens the other's envelopes.
  const mine = run(kc, { keyring, cases, envelopes: [], bad });
  const child = spawnSync(process.execPath, [fileURLToPath(new URL('./fast-child.mjs', import.meta.url))], {
    input: JSON.stringify({ keyring, cases, envelopes: mine.sealed, bad }),
    encoding: 'utf8',
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
    const P = kc.Keyring.prototype;
    console.log(['seal', 'open', 'openText'].every((m) => /wasm\\.keyring_/.test(P[m].toString())));
  `], { encoding: 'utf8' });
  assert.equal(child.status, 0, child.stderr);
  assert.equal(child.stdout.trim(), 'true');
});
