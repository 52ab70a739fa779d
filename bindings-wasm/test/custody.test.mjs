// keycustody-wasm custody (issue 14 item 6, DESIGN §7) in Node: tenant keyrings sealed under a
// keyring, wrapped keyrings (two-step wrap with an application KEK, synchronous passphrase
// wrap), the tenant keyring cache; returned keyrings are the package's Keyring; keyring
// arguments are checked with typed errors; no passphrase or DEK in any output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import util from 'node:util';
import * as kc from '../node.js';

const { Keyring, WrappedKeyring, PendingWrap, TenantKeyringCache } = kc;

function throwsKc(fn, code) {
  let err;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  assert.ok(err, `expected ${code}`);
  assert.equal(err.name, 'KeycustodyError', String(err));
  assert.equal(err.code, code, `${err.code}: ${err.message}`);
  return err;
}

function specHeader(type, key, owner) {
  const part = (s) => {
    const b = Buffer.from(s, 'utf8');
    const n = Buffer.alloc(4);
    n.writeUInt32BE(b.length);
    return Buffer.concat([n, b]);
  };
  return Buffer.concat([Buffer.from('keycustody/v1/wrapped-keyring\0'), part(type), part(key), part(owner)]);
}

const appKek = crypto.randomBytes(32);
function appWrap(dek, aad) {
  const iv = crypto.randomBytes(12);
  const c = crypto.createCipheriv('aes-256-gcm', appKek, iv).setAAD(aad);
  return new Uint8Array(Buffer.concat([iv, c.update(dek), c.final(), c.getAuthTag()]));
}
function appUnwrap(blob, aad) {
  const b = Buffer.from(blob);
  const d = crypto.createDecipheriv('aes-256-gcm', appKek, b.subarray(0, 12)).setAAD(aad);
  d.setAuthTag(b.subarray(b.length - 16));
  return new Uint8Array(Buffer.concat([d.update(b.subarray(12, b.length - 16)), d.final()]));
}

test('tenant keyrings: sealKeyring / openKeyring, and the result is the package Keyring', () => {
  const platform = Keyring.generate();
  const tenant = Keyring.generate();
  tenant.rotate();
  const env = platform.sealKeyring('acme', tenant);
  assert.match(env, /^kc1\./);
  const back = platform.openKeyring('acme', env);
  assert.ok(back instanceof Keyring);
  assert.equal(back.export(), tenant.export());
  assert.equal(back.openText('acme', tenant.seal('acme', 'card', 'pan'), 'pan'), 'card');
  assert.equal(platform.openText('acme', env, 'keycustody/v1/keyring'), tenant.export());
  throwsKc(() => platform.openKeyring('evil', env), 'KC_DECRYPT_FAILED');
  throwsKc(() => Keyring.generate().openKeyring('acme', env), 'KC_DECRYPT_FAILED');
  throwsKc(() => platform.openKeyring('acme', platform.seal('acme', 'junk', 'keycustody/v1/keyring')), 'KC_MALFORMED');
  throwsKc(() => platform.sealKeyring('', tenant), 'KC_INVALID_OWNER');
});

test('two-step wrap with an application KEK', () => {
  const kr = Keyring.generate();
  const p = new PendingWrap(kr, 'vault-transit', 'transit/keys/platform', 'acme');
  assert.ok(p instanceof PendingWrap);
  assert.deepEqual([p.kekType, p.kekKey, p.owner], ['vault-transit', 'transit/keys/platform', 'acme']);
  const dek = p.dek;
  assert.ok(dek instanceof Uint8Array && dek.length === 32);
  assert.deepEqual(Buffer.from(p.header), specHeader('vault-transit', 'transit/keys/platform', 'acme'));
  assert.deepEqual({ ...p.encryptionContext }, { keycustody: 'wrapped-keyring/v1', owner: 'acme' });
  throwsKc(() => p.finish(new Uint8Array(0)), 'KC_INVALID_ARGUMENT');
  const blob = appWrap(dek, p.header);
  const w = p.finish(blob);
  assert.ok(w instanceof WrappedKeyring);
  throwsKc(() => p.dek, 'KC_INVALID_ARGUMENT');
  throwsKc(() => p.finish(blob), 'KC_INVALID_ARGUMENT');
  const text = w.toText();
  const j = JSON.parse(text);
  assert.deepEqual(Object.keys(j), ['version', 'kek', 'owner', 'wrapped_dek', 'nonce', 'ciphertext']);
  assert.ok(kc.isWrappedKeyring(text) && !kc.isWrappedKeyring(kr.export()));
  const parsed = WrappedKeyring.parse(text);
  assert.equal(parsed.toText(), text);
  assert.deepEqual(Buffer.from(parsed.wrappedDek), Buffer.from(blob));
  assert.deepEqual({ ...parsed.encryptionContext }, { keycustody: 'wrapped-keyring/v1', owner: 'acme' });
  parsed.expectOwner('acme');
  throwsKc(() => parsed.expectOwner('other'), 'KC_DECRYPT_FAILED');
  const opened = parsed.openWithDek(appUnwrap(parsed.wrappedDek, parsed.header));
  assert.ok(opened instanceof Keyring);
  assert.equal(opened.export(), kr.export());
  const wrong = new Uint8Array(dek);
  wrong[0] ^= 1;
  throwsKc(() => parsed.openWithDek(wrong), 'KC_DECRYPT_FAILED');
  throwsKc(() => WrappedKeyring.parse(JSON.stringify({ ...j, owner: 'other' })).openWithDek(dek), 'KC_DECRYPT_FAILED');
  assert.equal(throwsKc(() => WrappedKeyring.parse(JSON.stringify({ ...j, extra: 1 })), 'KC_MALFORMED').malformedKind, 'WrappedKeyring');
  assert.equal(throwsKc(() => WrappedKeyring.parse(JSON.stringify({ ...j, version: 2 })), 'KC_MALFORMED').malformedKind, 'WrappedKeyringVersion');
  throwsKc(() => new WrappedKeyring(), 'KC_INVALID_ARGUMENT');
});

test('passphrase wrap is synchronous here and round-trips', () => {
  const kr = Keyring.generate();
  const w = kc.wrapWithPassphrase(kr, 'correct horse', 'acme', 1024, 1, 1);
  assert.ok(w instanceof WrappedKeyring, 'not a Promise: synchronous in wasm');
  assert.match(w.kekKey, /^argon2id\$v=19\$m=1024,t=1,p=1\$[A-Za-z0-9_-]{22}$/);
  const back = WrappedKeyring.parse(w.toText()).openWithPassphrase('correct horse');
  assert.ok(back instanceof Keyring);
  assert.equal(back.export(), kr.export());
  assert.equal(w.openWithPassphrase(new TextEncoder().encode('correct horse')).export(), kr.export());
  throwsKc(() => w.openWithPassphrase('wrong'), 'KC_DECRYPT_FAILED');
  throwsKc(() => kc.wrapWithPassphrase(kr, '', 'acme', 8, 1, 1), 'KC_INVALID_ARGUMENT');
  throwsKc(() => kc.wrapWithPassphrase(kr, 'p', 'acme', 7, 1, 1), 'KC_INVALID_ARGUMENT');
  assert.match(kc.wrapWithPassphrase(kr, 'p', '').kekKey, /^argon2id\$v=19\$m=65536,t=3,p=1\$/);
});

test('the tenant keyring cache', () => {
  const d = new TenantKeyringCache();
  assert.deepEqual([d.capacity, d.ttl, d.size], [10000, 300, 0]);
  const c = new TenantKeyringCache(2, 10);
  const a = Keyring.generate();
  const env = a.seal('a', 'hello');
  assert.ok(c.insert('a', a, 100) instanceof Keyring);
  const hit = c.get('a', 109);
  assert.ok(hit instanceof Keyring);
  assert.equal(hit.openText('a', env), 'hello');
  assert.equal(c.get('a', 110), undefined);
  c.insert('a', a, 0);
  c.insert('b', Keyring.generate(), 0);
  assert.ok(c.get('a', 1));
  c.insert('c', Keyring.generate(), 2);
  assert.equal(c.size, 2);
  assert.equal(c.get('b', 3), undefined);
  c.invalidate('c');
  assert.equal(c.get('c', 3), undefined);
  c.clear();
  assert.equal(c.size, 0);
  // The caller's keyring is still usable after insert (the cache holds a snapshot).
  a.rotate();
  assert.equal(a.primaryKid, 2);
  const wall = new TenantKeyringCache(4, 3600);
  wall.insert('w', a);
  assert.ok(wall.get('w'));
  assert.equal(wall.get('w', Math.floor(Date.now() / 1000) + 7200), undefined);
});

test('a keyring argument that is not a Keyring is a typed KC_INVALID_ARGUMENT', () => {
  const kr = Keyring.generate();
  const w = new PendingWrap(kr, 'aws-kms', 'k', '').finish(new Uint8Array([1]));
  const freed = Keyring.generate();
  freed.free();
  for (const bad of [undefined, null, 42, 'keyring', {}, { __wbg_ptr: 1 }, w, new TenantKeyringCache(), freed]) {
    throwsKc(() => kr.sealKeyring('t', bad), 'KC_INVALID_ARGUMENT');
    throwsKc(() => new PendingWrap(bad, 'aws-kms', 'k', ''), 'KC_INVALID_ARGUMENT');
    throwsKc(() => kc.wrapWithPassphrase(bad, 'p', '', 8, 1, 1), 'KC_INVALID_ARGUMENT');
    throwsKc(() => new TenantKeyringCache().insert('t', bad, 0), 'KC_INVALID_ARGUMENT');
  }
  // The refused calls took nothing: the keyring still works.
  assert.equal(kr.openText('t', kr.seal('t', 'x')), 'x');
});

test('no passphrase or DEK in any error or inspect output', () => {
  const MARKER = 'ZQXMARKERQXZ';
  const kr = Keyring.generate();
  const p = new PendingWrap(kr, 'aws-kms', `key/${MARKER}`, 'acme');
  const dek = Buffer.from(p.dek);
  const needles = [MARKER, Buffer.from(MARKER).toString('hex'), dek.toString('hex'), dek.toString('base64url'), dek.toString('base64')];
  const clean = (what, s) => {
    for (const n of needles) assert.ok(!String(s).includes(n), `${what} leaks ${n}: ${s}`);
  };
  clean('inspect(pending)', util.inspect(p, { showHidden: true, depth: 5 }));
  const w = p.finish(new Uint8Array([1]));
  clean('inspect(wrapped)', util.inspect(w, { showHidden: true, depth: 5 }));
  const pw = kc.wrapWithPassphrase(kr, `pass-${MARKER}`, 'acme', 8, 1, 1);
  const calls = [
    () => pw.openWithPassphrase(`pass-${MARKER}x`),
    () => kc.wrapWithPassphrase(kr, `pass-${MARKER}`, 'o'.repeat(1025), 8, 1, 1),
    () => kc.wrapWithPassphrase(kr, `pass-${MARKER}`, 'acme', `pass-${MARKER}`),
    () => pw.openWithPassphrase({ p: `pass-${MARKER}` }),
    () => w.openWithDek(new Uint8Array(Buffer.concat([dek.subarray(1), Buffer.from([0])]))),
    () => w.openWithDek(dek.toString('hex')),
    () => WrappedKeyring.parse(`{"version":1,"dek":"${dek.toString('hex')}"}`),
    () => p.dek,
    () => kr.sealKeyring('t', { secret: `pass-${MARKER}` }),
  ];
  for (const [i, f] of calls.entries()) {
    let e;
    try {
      f();
    } catch (err) {
      e = err;
    }
    assert.ok(e && e.name === 'KeycustodyError', `call ${i}: ${e}`);
    clean(`call ${i} message`, e.message);
    clean(`call ${i} stack`, e.stack);
    clean(`call ${i} inspect`, util.inspect(e, { showHidden: true, depth: 5 }));
    clean(`call ${i} JSON`, JSON.stringify(e));
  }
});
