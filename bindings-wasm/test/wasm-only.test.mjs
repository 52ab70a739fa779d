// Behaviour of keycustody-wasm that the napi package does not share by construction (the
// shared suite, tests/js, asserts everything both do). napi's Keyring has no constructor at all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as kc from '../node.js';

const { Keyring } = kc;

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

test('new Keyring() is refused with a typed error, also with a keyring or the adopt symbol', () => {
  throwsKc(() => new Keyring(), 'KC_INVALID_ARGUMENT');
  // keyring.js moves a keyring in only for its own factories: the keyring passed stays usable.
  const kr = Keyring.generate();
  const env = kr.seal('t', 'v');
  throwsKc(() => new Keyring(kr), 'KC_INVALID_ARGUMENT');
  throwsKc(() => new Keyring(Symbol('keycustody.adopt'), kr), 'KC_INVALID_ARGUMENT');
  assert.equal(kr.openText('t', env), 'v');
});
