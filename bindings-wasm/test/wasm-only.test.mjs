// Behaviour of keycustody-wasm that differs from the napi package where the shared suite
// (tests/js) asserts only what both do. Each difference is named; the lead may decide to align.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as kc from '../node.js';

const { Keyring } = kc;
const NOW = 1_700_000_000;

function throwsKc(fn, code, extra = {}) {
  assert.throws(fn, (e) => {
    assert.equal(e.name, 'KeycustodyError');
    assert.equal(e.code, code, `${e.code}: ${e.message}`);
    for (const [k, v] of Object.entries(extra)) {
      if (v instanceof RegExp) assert.match(e[k], v, k);
      else assert.equal(e[k], v, k);
    }
    return true;
  });
}

test('addKey takes no argument: a secret given to it is refused, not ignored (napi ignores it)', () => {
  const kr = Keyring.generate();
  throwsKc(() => kr.addKey('L'.repeat(32)), 'KC_INVALID_ARGUMENT');
  throwsKc(() => kr.addKey(new Uint8Array(32)), 'KC_INVALID_ARGUMENT');
  assert.equal(kr.kids().length, 1, 'nothing was added');
  assert.equal(kr.addKey(undefined), 2);
});

test('new Keyring() is refused with a typed error, also with a keyring or the adopt symbol', () => {
  throwsKc(() => new Keyring(), 'KC_INVALID_ARGUMENT');
  // keyring.js moves a keyring in only for its own factories: the keyring passed stays usable.
  const kr = Keyring.generate();
  const env = kr.seal('t', 'v');
  throwsKc(() => new Keyring(kr), 'KC_INVALID_ARGUMENT');
  throwsKc(() => new Keyring(Symbol('keycustody.adopt'), kr), 'KC_INVALID_ARGUMENT');
  assert.equal(kr.openText('t', env), 'v');
});

test('a header mapping that throws is KC_INVALID_ARGUMENT (napi lets the exception propagate)', () => {
  // An exception unwinding through the wasm frames would skip their cleanup, so the binding
  // catches it.
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  const body = '{"type":"user.created"}';
  const sig = kc.signStandardWebhook(body, 'msg_1', NOW, secret);
  const plain = { 'webhook-id': 'msg_1', 'webhook-timestamp': String(NOW), 'webhook-signature': sig };
  const verify = (h) => kc.verifyStandardWebhook(body, h, secret, 300, NOW);
  const boom = () => { throw new Error('boom'); };
  for (const h of [
    { get entries() { return boom(); } },
    { entries: boom },
    new Proxy({}, { ownKeys: boom }),
    { ...plain, get 'webhook-id'() { return boom(); } },
    { entries: () => ({ [Symbol.iterator]: () => ({ next: boom }) }) },
    { entries: () => [Object.defineProperty(['webhook-id', 'x'], 0, { get: boom })].values() },
  ]) throwsKc(() => verify(h), 'KC_INVALID_ARGUMENT', { kind: 'InvalidArgument' });
  // An ArrayBuffer, a DataView or a String object is not a header mapping (napi: Malformed, no headers).
  for (const h of [new ArrayBuffer(2), new DataView(new ArrayBuffer(2)), Object('abc')]) {
    throwsKc(() => verify(h), 'KC_INVALID_ARGUMENT', { argument: /^headers must be/ });
  }
  // The argument detail is a sentence starting with the name (napi: the bare name).
  throwsKc(() => Keyring.generate().seal(42, 'x'), 'KC_INVALID_ARGUMENT', { argument: 'owner must be a string' });
  assert.equal(verify(plain), NOW);
});

test('raw-key arguments take a string as its UTF-8 bytes; decryptOpensslEnc data takes bytes only', () => {
  assert.equal(kc.totpRawAt('12345678901234567890', 59, 30, 8, 'SHA1'), '94287082');
  const a = kc.deriveDeliveryKeypair('k'.repeat(32));
  assert.deepEqual(kc.deriveDeliveryKeypair(new TextEncoder().encode('k'.repeat(32))), a);
  assert.notEqual(kc.deriveDeliveryKeypair('j'.repeat(32)).publicKey, a.publicKey);
  throwsKc(() => kc.deriveDeliveryKeypair('short'), 'KC_INVALID_ARGUMENT');
  throwsKc(() => kc.decryptOpensslEnc('Salted__' + 'x'.repeat(24), 'pw', 1000), 'KC_INVALID_ARGUMENT');
});
