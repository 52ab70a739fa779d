// keycustody-wasm in Node: behaviour of the platform pieces beyond the vectors
// (delivery, webhooks, replay guard, JWT, one-time codes, TOTP, scrub, validation,
// pseudonyms, legacy decoders) and the extra fields of KeycustodyError.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as kc from '../node.js';

const { Keyring } = kc;
const NOW = 1_700_000_000;
const dec = new TextDecoder();

function throwsKc(fn, code, extra = {}) {
  assert.throws(fn, (e) => {
    assert.equal(e.name, 'KeycustodyError');
    assert.equal(e.code, code, `${e.code}: ${e.message}`);
    for (const [k, v] of Object.entries(extra)) assert.equal(e[k], v, k);
    return true;
  });
}

describe('delivery (HPKE)', () => {
  test('keypair text forms, seal/open, owner binding, size limit', () => {
    const kp = kc.generateDeliveryKeypair();
    assert.match(kp.privateKey, /^kcsk1\.[A-Za-z0-9_-]{43}$/);
    assert.match(kp.publicKey, /^kcpk1\.[A-Za-z0-9_-]{43}$/);
    assert.equal(kc.deliveryPublicKey(kp.privateKey), kp.publicKey);
    const blob = kc.sealForDelivery(kp.publicKey, 'acme', 'sk-ant-api03-xyz');
    assert.match(blob, /^kcd1\./);
    assert.notEqual(kc.sealForDelivery(kp.publicKey, 'acme', 'sk-ant-api03-xyz'), blob, 'randomised');
    assert.equal(dec.decode(kc.openDelivery(kp.privateKey, 'acme', blob)), 'sk-ant-api03-xyz');
    throwsKc(() => kc.openDelivery(kp.privateKey, 'globex', blob), 'KC_DECRYPT_FAILED');
    throwsKc(() => kc.openDelivery(kc.generateDeliveryKeypair().privateKey, 'acme', blob), 'KC_DECRYPT_FAILED');
    throwsKc(() => kc.openDelivery(kp.privateKey, 'acme', blob.slice(0, -2)), 'KC_DECRYPT_FAILED');
    throwsKc(() => kc.sealForDelivery(kp.privateKey, 'acme', 'x'), 'KC_MALFORMED', { malformedKind: 'DeliveryKey' });
    throwsKc(() => kc.sealForDelivery(kp.publicKey, '', 'x'), 'KC_INVALID_OWNER');
    throwsKc(() => kc.sealForDelivery(kp.publicKey, 'acme', new Uint8Array(1024 * 1024 + 1)), 'KC_TOO_LARGE', {
      limit: 1024 * 1024,
    });
  });

  test('the VM shows its key fingerprint, the page pins it', () => {
    const vm = kc.generateDeliveryKeypair();
    const fp = kc.deliveryKeyFingerprint(vm.publicKey);
    assert.match(fp, /^kcfp1\.[A-Z2-7]{4}(-[A-Z2-7]{4}){7}$/);
    assert.equal(kc.deliveryKeyFingerprint(kc.deliveryPublicKey(vm.privateKey)), fp);
    const blob = kc.sealForDelivery(vm.publicKey, 'acme', 'sk-ant-x', fp);
    assert.equal(dec.decode(kc.openDelivery(vm.privateKey, 'acme', blob)), 'sk-ant-x');
    assert.match(kc.sealForDelivery(vm.publicKey, 'acme', 'x', null), /^kcd1\./);
    assert.match(kc.sealForDelivery(vm.publicKey, 'acme', 'x', undefined), /^kcd1\./);
    // A key served in place of the VM's (a compromised control plane) is refused.
    const other = kc.generateDeliveryKeypair();
    throwsKc(() => kc.sealForDelivery(other.publicKey, 'acme', 'sk-ant-x', fp), 'KC_CLAIM_MISMATCH', {
      claim: 'delivery key fingerprint',
    });
    // The pin is parsed strictly; a non-string pin is refused.
    throwsKc(() => kc.sealForDelivery(vm.publicKey, 'acme', 'x', fp.toLowerCase()), 'KC_MALFORMED', { malformedKind: 'DeliveryKey' });
    throwsKc(() => kc.sealForDelivery(vm.publicKey, 'acme', 'x', fp.replaceAll('-', '')), 'KC_MALFORMED');
    throwsKc(() => kc.sealForDelivery(vm.publicKey, 'acme', 'x', 42), 'KC_INVALID_ARGUMENT');
    throwsKc(() => kc.deliveryKeyFingerprint(vm.privateKey), 'KC_MALFORMED');
  });

  test('deriveDeliveryKeypair is deterministic and needs 32 bytes', () => {
    const a = kc.deriveDeliveryKeypair('k'.repeat(32));
    assert.deepEqual(kc.deriveDeliveryKeypair(new TextEncoder().encode('k'.repeat(32))), a);
    assert.notEqual(kc.deriveDeliveryKeypair('j'.repeat(32)).publicKey, a.publicKey);
    throwsKc(() => kc.deriveDeliveryKeypair('short'), 'KC_INVALID_ARGUMENT');
  });
});

describe('webhooks', () => {
  test('Stripe: sign, verify at a given time, tolerance, rolled secrets', () => {
    const body = '{"id":"evt_1","type":"invoice.paid"}';
    const header = kc.signStripePayload(body, 'whsec_test', NOW);
    assert.match(header, /^t=1700000000,v1=[0-9a-f]{64}$/);
    assert.equal(kc.verifyStripeSignature(body, header, 'whsec_test', 300, NOW + 30), NOW);
    assert.equal(kc.verifyStripeSignature(new TextEncoder().encode(body), header, 'whsec_test', undefined, NOW), NOW);
    throwsKc(() => kc.verifyStripeSignature(body, header, 'whsec_test', 300, NOW + 301), 'KC_TIMESTAMP_OUT_OF_TOLERANCE');
    throwsKc(() => kc.verifyStripeSignature(`${body} `, header, 'whsec_test', 300, NOW), 'KC_SIGNATURE_INVALID');
    throwsKc(() => kc.verifyStripeSignature(body, header, 'whsec_other', 300, NOW), 'KC_SIGNATURE_INVALID');
    const other = kc.signStripePayload(body, 'whsec_old', NOW).split(',')[1];
    assert.equal(kc.verifyStripeSignature(body, `${header},${other}`, 'whsec_old', 300, NOW), NOW);
    throwsKc(() => kc.verifyStripeSignature(body, 'garbage', 'whsec_test', 300, NOW), 'KC_MALFORMED', {
      malformedKind: 'SignatureHeader',
    });
    // Without `now` the clock is used: a 1970 signature is far outside the tolerance.
    throwsKc(() => kc.verifyStripeSignature(body, kc.signStripePayload(body, 'whsec_test', 1), 'whsec_test'),
      'KC_TIMESTAMP_OUT_OF_TOLERANCE');
  });

  test('Standard Webhooks and Telegram', () => {
    const secret = kc.generateStandardWebhookSecret();
    assert.match(secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
    const sig = kc.signStandardWebhook('{"a":1}', 'msg_1', NOW, secret);
    assert.match(sig, /^v1,/);
    const headers = { 'webhook-id': 'msg_1', 'webhook-timestamp': String(NOW), 'webhook-signature': sig };
    assert.equal(kc.verifyStandardWebhook('{"a":1}', headers, secret, 300, NOW), NOW);
    throwsKc(() => kc.verifyStandardWebhook('{"a":1}', { ...headers, 'webhook-id': 'msg_2' }, secret, 300, NOW), 'KC_SIGNATURE_INVALID');
    throwsKc(() => kc.verifyStandardWebhook('{"a":1}', headers, secret, 300, NOW + 301),
      'KC_TIMESTAMP_OUT_OF_TOLERANCE');
    assert.equal(kc.verifyTelegramSecret('tok_1', 'tok_1'), undefined);
    throwsKc(() => kc.verifyTelegramSecret('tok_2', 'tok_1'), 'KC_SIGNATURE_INVALID');
  });

  test('ReplayGuard accepts an id once within its ttl', () => {
    const g = new kc.ReplayGuard(2, 60);
    assert.equal(g.capacity, 2);
    assert.equal(g.size, 0);
    g.checkAndRecord('evt_1', NOW);
    throwsKc(() => g.checkAndRecord('evt_1', NOW + 59), 'KC_REPLAYED');
    // Held through now + ttl inclusive, accepted again from now + ttl + 1 (core's boundary).
    throwsKc(() => g.checkAndRecord('evt_1', NOW + 60), 'KC_REPLAYED');
    g.checkAndRecord('evt_1', NOW + 61);
    g.checkAndRecord('evt_2', NOW + 61);
    assert.equal(g.size, 2);
    assert.equal(new kc.ReplayGuard().capacity, 100000);
    throwsKc(() => new kc.ReplayGuard(0, 60), 'KC_INVALID_ARGUMENT');
    throwsKc(() => g.checkAndRecord('', NOW), 'KC_INVALID_ARGUMENT');
  });
});

describe('Keyring: JWT, one-time codes, pseudonyms', () => {
  test('JWT per tenant: object or text claims, checks, rotation', () => {
    const kr = Keyring.generate();
    const token = kr.signJwt('acme', { sub: 'agent', aud: 'api' }, 600, NOW);
    const [h] = token.split('.');
    assert.deepEqual(JSON.parse(Buffer.from(h, 'base64url')), { alg: 'HS256', typ: 'JWT', kid: '1' });
    assert.deepEqual(kr.verifyJwt('acme', token, { audience: 'api', now: NOW + 1 }), {
      sub: 'agent', aud: 'api', iat: NOW, exp: NOW + 600,
    });
    assert.equal(kr.verifyJwt('acme', kr.signJwt('acme', '{"sub":"x"}', 60, NOW), { now: NOW }).sub, 'x');
    throwsKc(() => kr.verifyJwt('globex', token, { audience: 'api', now: NOW }), 'KC_SIGNATURE_INVALID');
    throwsKc(() => kr.verifyJwt('acme', token, { audience: 'api', now: NOW + 601 }), 'KC_EXPIRED');
    assert.equal(kr.verifyJwt('acme', token, { audience: 'api', now: NOW + 601, leeway: 5 }).sub, 'agent');
    throwsKc(() => kr.verifyJwt('acme', token, { audience: 'web', now: NOW }), 'KC_CLAIM_MISMATCH', { claim: 'aud' });
    throwsKc(() => kr.verifyJwt('acme', token, { now: NOW }), 'KC_CLAIM_MISMATCH', { claim: 'aud' });
    throwsKc(() => kr.signJwt('acme', { exp: 1 }, 600, NOW), 'KC_INVALID_ARGUMENT');
    throwsKc(() => kr.signJwt('acme', {}, 0, NOW), 'KC_INVALID_ARGUMENT');
    const secret = kr.jwtSecret('acme');
    assert.equal(secret.kid, 1);
    assert.equal(secret.secret.length, 32);
    kr.rotate();
    assert.equal(kr.verifyJwt('acme', token, { audience: 'api', now: NOW }).sub, 'agent', 'old kid still verifies');
    assert.equal(kr.jwtSecret('acme').kid, 2);
  });

  test('one-time codes: valid once, wrong attempts counted, expiry', () => {
    const kr = Keyring.generate();
    const issued = kr.issueCode('user@example.com', NOW);
    assert.match(issued.code, /^\d{6}$/);
    assert.equal(issued.expiresAt, NOW + 900);
    assert.ok(!issued.record.includes(issued.code), 'the record holds no code');
    const wrongCode = issued.code === '000000' ? '000001' : '000000';
    const wrong = kr.verifyCode('user@example.com', wrongCode, issued.record, NOW + 1);
    assert.deepEqual([wrong.status, wrong.attemptsLeft, wrong.changed], ['wrong', 4, true]);
    const ok = kr.verifyCode('user@example.com', issued.code, wrong.record, NOW + 2);
    assert.equal(ok.status, 'valid');
    assert.equal(kr.verifyCode('user@example.com', issued.code, ok.record, NOW + 3).status, 'used');
    assert.equal(kr.verifyCode('user@example.com', issued.code, issued.record, NOW + 901).status, 'expired');
    assert.equal(kr.verifyCode('other@example.com', issued.code, issued.record, NOW + 1).status, 'wrong');
    throwsKc(() => kr.verifyCode('user@example.com', issued.code, '{}', NOW), 'KC_MALFORMED');
  });

  test('pseudonyms: stable, per tenant, change with the primary key', () => {
    const kr = Keyring.generate();
    const p = kr.pseudonymize('203.0.113.7');
    assert.match(p, /^[0-9a-f]{64}$/);
    assert.equal(kr.pseudonymize('203.0.113.7'), p);
    assert.notEqual(kr.pseudonymizeFor('acme', '203.0.113.7'), kr.pseudonymizeFor('globex', '203.0.113.7'));
    kr.rotate();
    assert.notEqual(kr.pseudonymize('203.0.113.7'), p);
  });
});

describe('TOTP, scrub, validation, legacy', () => {
  test('TOTP: secret, URI, code, verify with replay prevention', () => {
    const secret = kc.generateTotpSecret();
    assert.match(secret, /^[A-Z2-7]{32}$/);
    assert.match(kc.totpUri(secret, 'alice@example.com', 'Acme'), /^otpauth:\/\/totp\/Acme:alice%40example\.com\?secret=/);
    const code = kc.totpAt(secret, NOW);
    assert.match(code, /^\d{6}$/);
    const step = kc.verifyTotpAt(secret, code, NOW);
    assert.equal(step, Math.floor(NOW / 30));
    assert.equal(kc.totpStep(NOW), step);
    assert.equal(kc.totpStep(59), 1);
    assert.equal(kc.totpStep(0), 0);
    throwsKc(() => kc.totpStep(-1), 'KC_INVALID_ARGUMENT');
    assert.equal(typeof kc.totpStep(), 'number'); // the clock
    throwsKc(() => kc.verifyTotpAt(secret, code, NOW, step), 'KC_REPLAYED');
    throwsKc(() => kc.verifyTotpAt(secret, code, NOW + 90), 'KC_SIGNATURE_INVALID');
    // RFC 6238 appendix B, SHA-1, T = 59.
    assert.equal(kc.totpRawAt('12345678901234567890', 59, 30, 8, 'SHA1'), '94287082');
    // The defaults: 30 s, 6 digits, SHA-1 (the last 6 digits of the 8-digit code above).
    assert.equal(kc.totpRawAt('12345678901234567890', 59), '287082');
    assert.equal(kc.totpRawAt('12345678901234567890', 59, undefined, 8), '94287082');
    // RFC 6238 appendix B, SHA-256 and SHA-512 (their 32- and 64-byte keys), T = 59.
    assert.equal(kc.totpRawAt('12345678901234567890123456789012', 59, 30, 8, 'SHA256'), '46119246');
    assert.equal(
      kc.totpRawAt('1234567890123456789012345678901234567890123456789012345678901234', 59, 30, 8, 'SHA512'),
      '90693936',
    );
    throwsKc(() => kc.totpRawAt('12345678901234567890', 59, 30, 8, 'MD5'), 'KC_INVALID_ARGUMENT');
    throwsKc(() => kc.totpRawAt('12345678901234567890', 59, 0), 'KC_INVALID_ARGUMENT');
    throwsKc(() => kc.totpRawAt('12345678901234567890', 59, 30, 9), 'KC_INVALID_ARGUMENT');
    throwsKc(() => kc.totpAt('not base32!', NOW), 'KC_MALFORMED', { malformedKind: 'Totp' });
  });

  test('scrub, validateSlug, validateEmail', () => {
    const out = kc.scrub(`Authorization: Bearer sk-ant-api03-${'x'.repeat(90)}AA`);
    assert.ok(!out.includes('sk-ant-api03'));
    assert.match(out, /\[REDACTED:/);
    assert.equal(kc.scrub('nothing to see'), 'nothing to see');
    assert.equal(kc.validateSlug('acme-co'), undefined);
    throwsKc(() => kc.validateSlug('Acme'), 'KC_INVALID_ARGUMENT');
    assert.equal(kc.validateEmail('a@example.com'), undefined);
    throwsKc(() => kc.validateEmail('a@b'), 'KC_INVALID_ARGUMENT');
  });

  test('legacy decoders', () => {
    const blob = 'AQEBAQEBAQEBAQEBAQEBAQICAgICAgICAgICAit53DXJ+MvbbGAUsJ7qo4iq8dSR+HyYyKhGEKko';
    assert.equal(dec.decode(kc.decryptLegacyPbkdf2Gcm(blob, 'pw', { iterations: 1000 })), 'legacy secret');
    throwsKc(() => kc.decryptLegacyPbkdf2Gcm(blob, 'wrong', { iterations: 1000 }), 'KC_DECRYPT_FAILED');
    throwsKc(() => kc.decryptLegacyPbkdf2Gcm(blob, 'pw', { iterations: 0 }), 'KC_INVALID_ARGUMENT');
    const data = Buffer.from('53616c7465645f5fe023088f91be88ddac3d200feb553e7acf24a531a5f89c47', 'hex');
    assert.equal(dec.decode(kc.decryptOpensslEnc(data, 'pw', 1000)), 'openssl secret');
    throwsKc(() => kc.decryptOpensslEnc(data.subarray(0, 8), 'pw', 1000), 'KC_MALFORMED', { malformedKind: 'Legacy' });
  });
});

test('errors carry malformedKind for KC_MALFORMED and never echo the input', () => {
  const kr = Keyring.generate();
  try {
    kr.open('tenant', 'sk-live-THIS-IS-SECRET');
    assert.fail('no error');
  } catch (e) {
    assert.equal(e.malformedKind, 'EnvelopePrefix');
    assert.ok(!e.message.includes('THIS-IS-SECRET') && !e.stack.includes('THIS-IS-SECRET'));
  }
});

describe('Standard Webhooks: the request headers as they come', () => {
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  const body = '{"type":"user.created"}';
  const sig = kc.signStandardWebhook(body, 'msg_1', NOW, secret);
  const plain = { 'webhook-id': 'msg_1', 'webhook-timestamp': String(NOW), 'webhook-signature': sig };
  const verify = (h) => kc.verifyStandardWebhook(body, h, secret, 300, NOW);

  test('Headers, plain objects and Maps, names in any case', () => {
    assert.equal(verify(new Headers({ 'Content-Type': 'application/json', 'Webhook-Id': 'msg_1', 'WEBHOOK-TIMESTAMP': String(NOW), 'webhook-signature': sig })), NOW);
    assert.equal(verify(new Request('https://example.com/hook', { method: 'POST', headers: plain, body }).headers), NOW);
    assert.equal(verify({ ...plain, 'x-forwarded-for': ['a', 'b'], host: undefined, 'x-n': 42 }), NOW);
    assert.equal(verify({ ...plain, 'webhook-signature': [sig] }), NOW);
    assert.equal(verify({ 'Webhook-ID': 'msg_1', 'Webhook-Timestamp': String(NOW), 'Webhook-Signature': sig }), NOW);
    assert.equal(verify(new Map(Object.entries(plain))), NOW);
  });

  test('missing and repeated headers are KC_MALFORMED with their malformedKind', () => {
    const missing = { malformedKind: 'WebhookHeaderMissing', kind: 'Malformed' };
    const repeated = { malformedKind: 'WebhookHeaderRepeated', kind: 'Malformed' };
    throwsKc(() => verify({}), 'KC_MALFORMED', missing);
    throwsKc(() => verify(new Headers()), 'KC_MALFORMED', missing);
    throwsKc(() => verify({ 'webhook-id': 'msg_1', 'webhook-timestamp': String(NOW) }), 'KC_MALFORMED', missing);
    throwsKc(() => verify({ ...plain, 'webhook-id': undefined }), 'KC_MALFORMED', missing);
    throwsKc(() => verify({ ...plain, 'Webhook-Id': 'msg_1' }), 'KC_MALFORMED', repeated);
    throwsKc(() => verify({ ...plain, 'webhook-signature': [sig, sig] }), 'KC_MALFORMED', repeated);
    throwsKc(() => verify(new Map([...Object.entries(plain), ['WEBHOOK-ID', 'msg_1']])), 'KC_MALFORMED', repeated);
    // Headers joins a repeated header with ", ": a joined timestamp is not a timestamp.
    const joined = new Headers(plain);
    joined.append('webhook-timestamp', String(NOW));
    throwsKc(() => verify(joined), 'KC_MALFORMED', { malformedKind: 'Timestamp' });
    throwsKc(() => verify({ ...plain, 'webhook-id': 'msg_\ud800' }), 'KC_MALFORMED', { malformedKind: 'Utf8' });
  });

  test('not a header mapping: KC_INVALID_ARGUMENT naming headers, never a trap', () => {
    const bad = [undefined, null, 'webhook-id: msg_1', 42, true, [], [['webhook-id', 'msg_1']], new Uint8Array(2),
      new ArrayBuffer(2), Object('abc'), () => plain, Symbol('h'), { ...plain, 'webhook-id': 1 },
      { ...plain, 'webhook-signature': [sig, 2] }, new Map([[1, 'x']]), { entries: () => ['webhook-id'].values() }];
    for (const h of bad) {
      throwsKc(() => verify(h), 'KC_INVALID_ARGUMENT', { kind: 'InvalidArgument' });
      assert.throws(() => verify(h), (e) => /^headers must be/.test(e.argument));
    }
    // The caller's own code throwing (a getter, a Proxy trap, an iterator) is caught in
    // the binding: an exception unwinding through the wasm frames would skip their cleanup.
    const boom = () => { throw new Error('boom'); };
    const throwing = [
      { get entries() { return boom(); } },
      { entries: boom },
      new Proxy({}, { ownKeys: boom }),
      { ...plain, get 'webhook-id'() { return boom(); } },
      { entries: () => ({ [Symbol.iterator]: () => ({ next: boom }) }) },
      { entries: () => [Object.defineProperty(['webhook-id', 'x'], 0, { get: boom })].values() },
    ];
    for (const h of throwing) throwsKc(() => verify(h), 'KC_INVALID_ARGUMENT', { kind: 'InvalidArgument' });
    // The instance still works afterwards.
    assert.equal(verify(plain), NOW);
  });
});

test('errors carry core\'s details: kid, limit, claim, argument, malformedKind', () => {
  const DETAILS = ['kid', 'limit', 'claim', 'argument', 'malformedKind', 'envVar', 'ioKind'];
  const details = (fn, code, expected) => {
    assert.throws(fn, (e) => {
      assert.equal(e.code, code, e.message);
      for (const d of DETAILS) {
        if (d in expected) assert.equal(e[d], expected[d], d);
        else assert.equal(Object.hasOwn(e, d), false, `${d} should be absent`);
      }
      return true;
    });
  };
  const kr = Keyring.generate();
  const other = Keyring.fromSecret('k'.repeat(32), 9).seal('t', 'x');
  details(() => kr.open('t', other), 'KC_UNKNOWN_KEY', { kid: 9 });
  details(() => kr.retire(1), 'KC_PRIMARY_KEY', { kid: 1 });
  details(() => kc.signStripePayload(new Uint8Array(16 * 1024 * 1024 + 1), 'whsec_x', 1), 'KC_TOO_LARGE', { limit: 16 * 1024 * 1024 });
  const token = kr.signJwt('acme', { sub: 'u', aud: 'dash' }, 600, NOW);
  details(() => kr.verifyJwt('acme', token, { audience: 'api', now: NOW }), 'KC_CLAIM_MISMATCH', { claim: 'aud' });
  details(() => new kc.ReplayGuard(0), 'KC_INVALID_ARGUMENT', { argument: 'capacity must be 1 to 10000000 entries' });
  details(() => kr.seal(42, 'x'), 'KC_INVALID_ARGUMENT', { argument: 'owner must be a string' });
  details(() => kc.inspect('nope'), 'KC_MALFORMED', { malformedKind: 'EnvelopePrefix' });
  details(() => kc.parseApiKey('kc_' + 'x'.repeat(36)), 'KC_MALFORMED', { malformedKind: 'ApiKeyChecksum' });
  details(() => kr.open('t1', kr.seal('t2', 'sk-live-MARKER')), 'KC_DECRYPT_FAILED', {});
});
