// keycustody-wasm in Node: the shared vector suite, API behaviour, and garbage for every export.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import * as kc from '../node.js';
import { runVectors, toHex } from './vectors.mjs';
import { garbageSuite } from './garbage.mjs';
import { crossCheck } from './crosscheck.mjs';

const { Keyring } = kc;
const VECTORS = new URL('../../tests/vectors/', import.meta.url);
const enc = new TextEncoder();

/** Asserts that fn throws a KeycustodyError with this code (and the matching kind). */
function throwsKc(fn, code, kind) {
  assert.throws(fn, (e) => {
    assert.ok(e instanceof Error, 'an Error');
    assert.equal(e.name, 'KeycustodyError');
    assert.equal(e.code, code, `${e.code}: ${e.message}`);
    if (kind) assert.equal(e.kind, kind);
    return true;
  });
}

describe('vectors', () => {
  const files = readdirSync(VECTORS).filter((f) => f.endsWith('.json')).sort();
  test('the core vector files are present', () => {
    for (const f of ['envelope_v1.json', 'keyring_v1.json', 'api_keys_v1.json']) {
      assert.ok(files.includes(f), `tests/vectors/${f} missing`);
    }
  });
  for (const f of files) {
    test(f, () => {
      const doc = JSON.parse(readFileSync(new URL(f, VECTORS), 'utf8'));
      const r = runVectors(kc, { [f]: doc });
      assert.deepEqual(r.failures, []);
      assert.equal(r.passed + r.pending, doc.cases.length);
    });
  }
});

test('kc1 envelopes cross between keycustody-wasm and a WebCrypto implementation', async () => {
  assert.deepEqual(await crossCheck(kc), []);
});

describe('Keyring', () => {
  test('seal/open round trip with string and byte plaintexts and contexts', () => {
    const kr = Keyring.generate();
    assert.equal(kr.primaryKid, 1);
    const env = kr.seal('tenant-1', 'sk-or-v1-secret', 'openrouter_key');
    assert.match(env, /^kc1\.[A-Za-z0-9_-]+$/);
    assert.equal(kr.openText('tenant-1', env, 'openrouter_key'), 'sk-or-v1-secret');
    // A string context is its UTF-8 bytes.
    assert.deepEqual(kr.open('tenant-1', env, enc.encode('openrouter_key')), enc.encode('sk-or-v1-secret'));
    const bin = new Uint8Array([0, 255, 1, 254]);
    const env2 = kr.seal('tenant-1', bin);
    assert.deepEqual(kr.open('tenant-1', env2), bin);
    assert.deepEqual(kr.open('tenant-1', env2, ''), bin);
    assert.deepEqual(kr.open('tenant-1', env2, null), bin);
    assert.deepEqual(kr.open('tenant-1', env2, undefined), bin);
    // Node Buffers are Uint8Arrays.
    assert.equal(kr.openText('tenant-1', kr.seal('tenant-1', Buffer.from('buf'))), 'buf');
    // Empty plaintext, and non-ASCII text.
    assert.equal(kr.open('tenant-1', kr.seal('tenant-1', '')).length, 0);
    assert.equal(kr.openText('tenant-ü', kr.seal('tenant-ü', 'ключ 🔑')), 'ключ 🔑');
    // Each seal uses a fresh nonce.
    assert.notEqual(kr.seal('t', 'x'), kr.seal('t', 'x'));
  });

  test('wrong owner, context, key or a flipped bit is one error: KC_DECRYPT_FAILED', () => {
    const kr = Keyring.generate();
    const env = kr.seal('tenant-1', 'secret-value', 'ctx');
    throwsKc(() => kr.open('tenant-2', env, 'ctx'), 'KC_DECRYPT_FAILED', 'DecryptFailed');
    throwsKc(() => kr.open('tenant-1', env, 'other'), 'KC_DECRYPT_FAILED', 'DecryptFailed');
    throwsKc(() => kr.open('tenant-1', env), 'KC_DECRYPT_FAILED', 'DecryptFailed');
    throwsKc(() => Keyring.generate().open('tenant-1', env, 'ctx'), 'KC_DECRYPT_FAILED');
    const bin = kr.sealBinary('tenant-1', 'secret-value', 'ctx');
    bin[bin.length - 1] ^= 1;
    throwsKc(() => kr.openBinary('tenant-1', bin, 'ctx'), 'KC_DECRYPT_FAILED');
    try {
      kr.open('tenant-2', env, 'ctx');
    } catch (e) {
      assert.ok(!e.message.includes('secret-value') && !e.message.includes('tenant'));
      assert.equal(e.kid, undefined);
    }
  });

  test('malformed envelopes, bad owners and non-UTF-8 plaintext', () => {
    const kr = Keyring.generate();
    throwsKc(() => kr.open('t', 'kc2.AAAA'), 'KC_MALFORMED', 'Malformed');
    throwsKc(() => kr.open('t', 'kc1.!!!!'), 'KC_MALFORMED');
    throwsKc(() => kr.open('t', 'kc1.AAAA'), 'KC_MALFORMED');
    throwsKc(() => kr.openBinary('t', new Uint8Array(3)), 'KC_MALFORMED');
    throwsKc(() => kr.seal('', 'x'), 'KC_INVALID_OWNER', 'InvalidOwner');
    throwsKc(() => kr.seal('o'.repeat(1025), 'x'), 'KC_INVALID_OWNER');
    assert.equal(kr.openText('o'.repeat(1024), kr.seal('o'.repeat(1024), 'x')), 'x');
    throwsKc(() => kr.openText('t', kr.seal('t', new Uint8Array([0xff, 0xfe]))), 'KC_MALFORMED');
  });

  test('plaintext over 64 MiB is KC_TOO_LARGE', () => {
    const kr = Keyring.generate();
    throwsKc(() => kr.seal('t', new Uint8Array(64 * 1024 * 1024 + 1)), 'KC_TOO_LARGE', 'TooLarge');
  });

  test('rotation: addKey, addKeyWithSecret, promote, needsRewrap, rewrap, retire, remove', () => {
    const kr = Keyring.generate();
    const old = kr.seal('t', 'v', 'c');
    assert.equal(kr.addKey(), 2);
    assert.equal(kr.primaryKid, 1, 'an added key is not used to seal before promote');
    assert.equal(kr.stateOf(2), 'decrypt-only');
    assert.equal(kc.inspect(kr.seal('t', 'v')).kid, 1);
    kr.promote(2);
    assert.equal(kr.primaryKid, 2);
    assert.deepEqual(
      kr.kids().map(({ kid, state }) => [kid, state]),
      [[1, 'decrypt-only'], [2, 'active']],
    );
    assert.match(kr.kids()[0].fingerprint, /^[0-9a-f]{16}$/);
    assert.equal(kr.needsRewrap(old), true);
    const fresh = kr.rewrap('t', old, 'c');
    assert.equal(kc.inspect(fresh).kid, 2);
    assert.equal(kr.needsRewrap(fresh), false);
    assert.equal(kr.rewrap('t', fresh, 'c'), fresh, 'a current envelope is returned as is');
    throwsKc(() => kr.rewrap('t', old, 'wrong'), 'KC_DECRYPT_FAILED');
    throwsKc(() => kr.retire(2), 'KC_PRIMARY_KEY', 'PrimaryKey');
    throwsKc(() => kr.remove(2), 'KC_PRIMARY_KEY');
    kr.retire(1);
    assert.equal(kr.stateOf(1), 'retired');
    throwsKc(() => kr.open('t', old, 'c'), 'KC_KEY_RETIRED', 'KeyRetired');
    try {
      kr.open('t', old, 'c');
    } catch (e) {
      assert.equal(e.kid, 1);
    }
    // remove leaves a retired tombstone: the kid is never issued again (finding 4).
    kr.remove(1);
    throwsKc(() => kr.open('t', old, 'c'), 'KC_KEY_RETIRED', 'KeyRetired');
    assert.equal(kr.stateOf(1), 'retired');
    throwsKc(() => kr.stateOf(9), 'KC_UNKNOWN_KEY');
    throwsKc(() => kr.promote(9), 'KC_UNKNOWN_KEY');
    assert.equal(kr.rotate(), 3);
    // Adopting an existing secret as a new key: it opens what that secret sealed.
    const legacy = Keyring.fromSecret('L'.repeat(32), 1);
    const sealedByLegacy = legacy.seal('t', 'old value');
    assert.equal(kr.addKeyWithSecret('L'.repeat(32)), 4);
    throwsKc(() => kr.openText('t', sealedByLegacy), 'KC_KEY_RETIRED'); // sealed under kid 1, removed above
    const adopted = Keyring.fromSecret('L'.repeat(32), 4);
    assert.equal(kr.openText('t', adopted.seal('t', 'v4')), 'v4');
    throwsKc(() => kr.addKeyWithSecret('short'), 'KC_INVALID_ARGUMENT');
    assert.equal(kr.addKeyWithSecret(new Uint8Array(32).fill(9)), 5);
    // addKey takes no argument: a secret given to it (the old addKey(secret)) is refused, not
    // silently replaced by a random key, and nothing is added.
    throwsKc(() => kr.addKey('L'.repeat(32)), 'KC_INVALID_ARGUMENT');
    throwsKc(() => kr.addKey(new Uint8Array(32)), 'KC_INVALID_ARGUMENT');
    assert.equal(kr.kids().length, 5);
    assert.equal(kr.addKey(undefined), 6);
    assert.equal(kr.primaryKid, 3);
    assert.equal(kr.openText('t', fresh, 'c'), 'v');
  });

  test('nonces never repeat', () => {
    // Each nonce is its own getRandomValues call (no buffer of pre-drawn bytes): 20000 seals,
    // 20000 distinct nonces. A repeat, or bytes handed out twice, shows here.
    const kr = Keyring.generate();
    const seen = new Set();
    for (let i = 0; i < 20000; i++) {
      const bin = kr.sealBinary('tenant-1', 'v');
      seen.add(toHex(bin.subarray(5, 17)));
    }
    assert.equal(seen.size, 20000);
    // Other randomness (tokens, new keys) is unaffected and distinct from the nonces.
    assert.notEqual(kc.randomToken(16), kc.randomToken(16));
  });

  test('many owners through the per-key cipher cache: each opens for its owner only', () => {
    // More owners than the 16 expanded ciphers a key keeps, revisited out of order, so
    // entries are evicted and remade; then rotation and retire go through the cache too.
    const kr = Keyring.generate();
    const sealed = [];
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 48; i++) {
        const owner = `tenant-${(i * 7 + round) % 40}`;
        sealed.push([owner, kr.seal(owner, `v-${owner}`, 'ctx')]);
      }
    }
    for (const [owner, env] of sealed) {
      assert.equal(kr.openText(owner, env, 'ctx'), `v-${owner}`);
      throwsKc(() => kr.open(`${owner}x`, env, 'ctx'), 'KC_DECRYPT_FAILED', 'DecryptFailed');
    }
    const kid2 = kr.addKey();
    kr.promote(kid2);
    const [owner, env] = sealed[0];
    assert.equal(kr.openText(owner, kr.rewrap(owner, env, 'ctx'), 'ctx'), `v-${owner}`);
    kr.retire(1);
    throwsKc(() => kr.open(owner, env, 'ctx'), 'KC_KEY_RETIRED', 'KeyRetired');
  });

  test('export/parse round trip; toString shows no secret', () => {
    const kr = Keyring.generate();
    kr.rotate();
    const text = kr.export();
    const doc = JSON.parse(text);
    assert.equal(doc.version, 1);
    assert.equal(doc.primary, 2);
    const again = Keyring.parse(text);
    assert.equal(again.openText('t', kr.seal('t', 'hello')), 'hello');
    const s = String(kr);
    assert.match(s, /Keyring/);
    for (const k of doc.keys) assert.ok(!s.includes(k.secret));
    assert.ok(!JSON.stringify(kr).includes(doc.keys[0].secret));
    throwsKc(() => Keyring.parse('{"version":2,"primary":1,"keys":[]}'), 'KC_MALFORMED');
    throwsKc(() => Keyring.parse(''), 'KC_MALFORMED');
  });

  test('fromSecret takes a string as its UTF-8 bytes, never decoded', () => {
    const secret = 'k'.repeat(40);
    const a = Keyring.fromSecret(secret);
    const b = Keyring.fromSecret(enc.encode(secret), 1);
    assert.equal(a.primaryKid, 1);
    assert.equal(b.openText('t', a.seal('t', 'x')), 'x');
    assert.equal(Keyring.fromSecret(secret, 7).primaryKid, 7);
    throwsKc(() => Keyring.fromSecret('short'), 'KC_INVALID_ARGUMENT', 'InvalidArgument');
    throwsKc(() => Keyring.fromSecret(secret, 0), 'KC_INVALID_ARGUMENT');
  });

  test('deriveKey: 32 bytes by default, per purpose and per owner', () => {
    const kr = Keyring.generate();
    const k = kr.deriveKey('webhook-signing', 'tenant-1');
    assert.ok(k instanceof Uint8Array);
    assert.equal(k.length, 32);
    assert.deepEqual(kr.deriveKey('webhook-signing', 'tenant-1', 32), k);
    assert.notDeepEqual(kr.deriveKey('webhook-signing', 'tenant-2'), k);
    assert.notDeepEqual(kr.deriveKey('other', 'tenant-1'), k);
    assert.equal(kr.deriveKey('p', 't', 64).length, 64);
    throwsKc(() => kr.deriveKey('p', 't', 0), 'KC_INVALID_ARGUMENT');
    throwsKc(() => kr.deriveKey('p', 't', 8161), 'KC_INVALID_ARGUMENT');
    throwsKc(() => kr.deriveKey('', 't'), 'KC_INVALID_ARGUMENT');
    throwsKc(() => kr.deriveKey('p', ''), 'KC_INVALID_OWNER');
  });

  test('new Keyring() is refused with a typed error', () => {
    throwsKc(() => new Keyring(), 'KC_INVALID_ARGUMENT');
    // Not with a keyring either (keyring.js moves one in only for its own factories): the
    // keyring passed stays usable.
    const kr = Keyring.generate();
    const env = kr.seal('t', 'v');
    throwsKc(() => new Keyring(kr), 'KC_INVALID_ARGUMENT');
    throwsKc(() => new Keyring(Symbol('keycustody.adopt'), kr), 'KC_INVALID_ARGUMENT');
    assert.equal(kr.openText('t', env), 'v');
  });

  test('a freed keyring throws instead of trapping', () => {
    const kr = Keyring.generate();
    kr.free();
    assert.throws(() => kr.seal('t', 'x'));
    // The instance still works afterwards.
    assert.equal(Keyring.generate().primaryKid, 1);
  });
});

describe('free functions', () => {
  test('inspect and inspectBinary read the header only', () => {
    const kr = Keyring.generate();
    kr.rotate();
    assert.deepEqual(kc.inspect(kr.seal('t', 'abc')), { version: 1, kid: 2, plaintextLen: 3 });
    assert.deepEqual(kc.inspectBinary(kr.sealBinary('t', 'abcd')), { version: 1, kid: 2, plaintextLen: 4 });
    throwsKc(() => kc.inspect('nope'), 'KC_MALFORMED');
    throwsKc(() => kc.inspectBinary(new Uint8Array(5)), 'KC_MALFORMED');
  });

  test('constantTimeEqual', () => {
    assert.equal(kc.constantTimeEqual('abc', 'abc'), true);
    assert.equal(kc.constantTimeEqual('abc', 'abd'), false);
    assert.equal(kc.constantTimeEqual('abc', 'abcd'), false);
    assert.equal(kc.constantTimeEqual(enc.encode('abc'), 'abc'), true);
    assert.equal(kc.constantTimeEqual(new Uint8Array(0), ''), true);
  });

  test('randomToken, randomBase62, inviteCode', () => {
    assert.match(kc.randomToken(), /^[0-9a-f]{64}$/);
    assert.match(kc.randomToken(16), /^[0-9a-f]{32}$/);
    assert.notEqual(kc.randomToken(), kc.randomToken());
    assert.match(kc.randomBase62(40), /^[0-9A-Za-z]{40}$/);
    assert.match(kc.randomBase62(), /^[0-9A-Za-z]{32}$/);
    assert.match(kc.inviteCode(8), /^[ABCDEFGHJKLMNPQRSTUVWXYZ23456789]{8}$/);
    assert.match(kc.randomString('ab', 64), /^[ab]{64}$/);
    assert.equal(new Set(kc.randomString('xyz', 300)).size, 3);
    throwsKc(() => kc.randomString('a', 8), 'KC_INVALID_ARGUMENT');
    throwsKc(() => kc.randomString('ä€', 8), 'KC_INVALID_ARGUMENT');
    for (const f of [kc.randomToken, kc.randomBase62, kc.inviteCode]) {
      throwsKc(() => f(0), 'KC_INVALID_ARGUMENT');
      throwsKc(() => f(1025), 'KC_INVALID_ARGUMENT');
    }
    // Uniformity smoke check over the base62 alphabet: every symbol shows up.
    assert.equal(new Set(kc.randomBase62(1024)).size, 62);
  });

  test('API keys: generate, parse, hash, verify; typos are caught by checksum', () => {
    const g = kc.generateApiKey('obee');
    assert.match(g.key, /^obee_[0-9A-Za-z]{36}$/);
    assert.match(g.hash, /^[0-9a-f]{64}$/);
    assert.equal(g.hint, `obee_${g.key.slice(5, 9)}…${g.key.slice(-4)}`);
    assert.deepEqual(kc.parseApiKey(g.key), { prefix: 'obee', hint: g.hint, hash: g.hash });
    assert.equal(kc.hashApiKey(g.key), g.hash);
    assert.equal(kc.verifyApiKey(g.key, g.hash), true);
    assert.equal(kc.verifyApiKey(g.key, kc.generateApiKey('obee').hash), false);
    const i = 10;
    const typo = g.key.slice(0, i) + (g.key[i] === 'a' ? 'b' : 'a') + g.key.slice(i + 1);
    throwsKc(() => kc.parseApiKey(typo), 'KC_MALFORMED');
    // A presented key that does not verify is false, malformed or not; a bad stored hash throws.
    assert.equal(kc.verifyApiKey(typo, g.hash), false);
    assert.equal(kc.verifyApiKey('not a key', g.hash), false);
    throwsKc(() => kc.verifyApiKey(g.key, 'ABC'), 'KC_MALFORMED');
    throwsKc(() => kc.generateApiKey('A'), 'KC_MALFORMED');
  });
});

describe('garbage: every export refuses wrong types with a typed error', () => {
  for (const [name, run] of garbageSuite(kc)) test(name, run);
});

test('the wasm instance survived everything above', () => {
  const kr = Keyring.generate();
  assert.equal(toHex(kr.open('t', kr.seal('t', new Uint8Array([1, 2])))), '0102');
});

test("the README's Node snippet runs and prints what its comments say", async () => {
  const { spawnSync } = await import('node:child_process');
  const { writeFileSync, rmSync } = await import('node:fs');
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const section = readme.split('<!-- BEGIN wasm -->')[1].split('<!-- END wasm -->')[0];
  const blocks = [...section.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);
  assert.equal(blocks.length, 1);
  // Inside the package directory, so that "keycustody-wasm" resolves to this package.
  const file = new URL(`../.readme-snippet-${process.pid}.mjs`, import.meta.url);
  writeFileSync(file, blocks[0]);
  try {
    const r = spawnSync(process.execPath, [file.pathname], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const want = [...blocks[0].matchAll(/console\.log\(.*\/\/ (.*)$/gm)].map((m) => m[1]);
    assert.equal(want.length, 4);
    assert.deepEqual(r.stdout.trim().split('\n'), want);
  } finally {
    rmSync(file, { force: true });
  }
});

test('random and mutated inputs to every parser throw KeycustodyError or succeed, never trap', () => {
  // Deterministic (xorshift32) so a failure reproduces.
  let s = 0x9e3779b9;
  const rnd = (n) => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) % n;
  };
  const kr = Keyring.generate();
  const dk = kc.generateDeliveryKeypair();
  const seeds = [
    kr.seal('t', 'value', 'c'),
    kr.export(),
    kc.sealForDelivery(dk.publicKey, 't', 'x'),
    kc.generateApiKey('obee').key,
    kr.signJwt('t', { sub: 'x' }, 60, 1_700_000_000),
    kr.issueCode('s', 1_700_000_000).record,
    't=1700000000,v1=' + 'a'.repeat(64),
  ];
  const alphabet = 'kc1.AQAB_-=+/{}[]":,0123456789abcdefxyzé\u0000\ud83d\ude00';
  const mutate = (text) => {
    const chars = [...text];
    for (let k = 0, n = 1 + rnd(4); k < n; k++) {
      const i = rnd(chars.length + 1);
      const op = rnd(3);
      if (op === 0) chars.splice(i, 1);
      else if (op === 1) chars.splice(i, 0, alphabet[rnd(alphabet.length)]);
      else chars.splice(i, chars.length - i); // truncate
    }
    return chars.join('');
  };
  const targets = [
    (x) => Keyring.parse(x),
    (x) => kr.open('t', x, 'c'),
    (x) => kr.rewrap('t', x, 'c'),
    (x) => kc.inspect(x),
    (x) => kc.openDelivery(dk.privateKey, 't', x),
    (x) => kc.sealForDelivery(x, 't', 'x'),
    (x) => kc.parseApiKey(x),
    (x) => kr.verifyJwt('t', x, { now: 1_700_000_000 }),
    (x) => kr.verifyCode('s', '123456', x, 1_700_000_000),
    (x) => kc.verifyStripeSignature('{}', x, 'whsec_x', 300, 1_700_000_000),
    (x) => kc.decryptLegacyPbkdf2Gcm(x, 'pw', { iterations: 1 }),
    (x) => kc.totpAt(x, 0),
    (x) => kc.scrub(x),
  ];
  let refused = 0;
  for (let i = 0; i < 4000; i++) {
    const input = mutate(seeds[rnd(seeds.length)]);
    const f = targets[rnd(targets.length)];
    try {
      f(input);
    } catch (e) {
      assert.equal(e?.name, 'KeycustodyError', `${e}`);
      refused++;
    }
  }
  assert.ok(refused > 1000, `only ${refused} refusals: the mutations are too weak`);
  assert.equal(kr.openText('t', kr.seal('t', 'still alive')), 'still alive');
});

test('strings: a real U+FFFD is accepted, a lone surrogate anywhere is KC_MALFORMED', () => {
  const kr = Keyring.generate();
  assert.equal(kr.openText('own\uFFFDer', kr.seal('own\uFFFDer', 'a\uFFFDb', 'c\uFFFD'), 'c\uFFFD'), 'a\uFFFDb');
  for (const bad of ['\ud800', 'x\udc00', 'a\uFFFD\ud83d', '\ude00\ud83d']) {
    throwsKc(() => kr.seal(bad, 'x'), 'KC_MALFORMED');
    throwsKc(() => kr.seal('t', bad), 'KC_MALFORMED');
    throwsKc(() => kr.seal('t', 'x', bad), 'KC_MALFORMED');
  }
  // A well-formed surrogate pair is one character, not an error.
  assert.equal(kr.openText('t', kr.seal('t', '\ud83d\ude00')), '😀');
});
