// The platform pieces: webhooks, replay guard, JWT, one-time codes, TOTP, delivery,
// scrub/validate, pseudonyms, legacy import (formerly bindings-node/test/platform.test.mjs and
// bindings-wasm/test/platform.test.mjs). Time is always passed in. The independent checks use
// WebCrypto (crypto.subtle), which Node and the page both have.
import { assert, utf8, fromUtf8, fromHex, toHex, b64, b64url, fromB64, concat, filled } from '../harness.mjs'

const NOW = 1700000000
const subtle = () => globalThis.crypto.subtle

async function hmac(key, data) {
  const k = await subtle().importKey('raw', typeof key === 'string' ? utf8(key) : key, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])
  return new Uint8Array(await subtle().sign('HMAC', k, typeof data === 'string' ? utf8(data) : data))
}
async function hkdf(ikm, salt, info, len) {
  const k = await subtle().importKey('raw', ikm, 'HKDF', false, ['deriveBits'])
  return new Uint8Array(await subtle().deriveBits({ name: 'HKDF', hash: 'SHA-256', salt: utf8(salt), info }, k, len * 8))
}
async function pbkdf2(password, salt, iterations, len) {
  const k = await subtle().importKey('raw', utf8(password), 'PBKDF2', false, ['deriveBits'])
  return new Uint8Array(await subtle().deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations }, k, len * 8))
}

// Legacy fixtures made with WebCrypto (an implementation independent of keycustody).
export const LEGACY_PASSWORD = 'correct horse battery staple'
/** base64(salt 16 || iv 12 || AES-256-GCM(ct || tag)) of "legacy secret", PBKDF2-SHA256 key. */
export async function legacyGcmBlob(iterations) {
  const salt = filled(16, 7)
  const iv = filled(12, 9)
  const key = await subtle().importKey('raw', await pbkdf2(LEGACY_PASSWORD, salt, iterations, 32), 'AES-GCM', false, ['encrypt'])
  const ct = new Uint8Array(await subtle().encrypt({ name: 'AES-GCM', iv }, key, utf8('legacy secret')))
  return b64(concat(salt, iv, ct))
}
/** `openssl enc -aes-256-cbc -pbkdf2 -iter N` of "legacy file". */
export async function opensslFile(iterations) {
  const salt = filled(8, 3)
  const kiv = await pbkdf2(LEGACY_PASSWORD, salt, iterations, 48)
  const key = await subtle().importKey('raw', kiv.subarray(0, 32), 'AES-CBC', false, ['encrypt'])
  const ct = new Uint8Array(await subtle().encrypt({ name: 'AES-CBC', iv: kiv.subarray(32) }, key, utf8('legacy file')))
  return concat(utf8('Salted__'), salt, ct)
}

export default function register(test, ctx) {
  const { kc, throwsKc } = ctx
  const { Keyring } = kc
  const text = (b) => fromUtf8(b)

  test('Stripe: sign, verify, tolerance, secret rolling, independent HMAC', async () => {
    const body = utf8('{"id":"evt_1","type":"invoice.paid"}')
    const header = kc.signStripePayload(body, 'whsec_a', NOW)
    assert.match(header, /^t=1700000000,v1=[0-9a-f]{64}$/)
    assert.equal(header, `t=${NOW},v1=${toHex(await hmac('whsec_a', `${NOW}.${text(body)}`))}`)
    assert.equal(kc.verifyStripeSignature(body, header, 'whsec_a', 300, NOW), NOW)
    assert.equal(kc.verifyStripeSignature(body, header, 'whsec_a', 300, NOW + 30), NOW)
    assert.equal(kc.verifyStripeSignature(text(body), header, 'whsec_a', undefined, NOW + 300), NOW)
    throwsKc(() => kc.verifyStripeSignature(body, header, 'whsec_a', 300, NOW + 301), 'TimestampOutOfTolerance')
    throwsKc(() => kc.verifyStripeSignature(body, header, 'whsec_a', 10, NOW - 11), 'TimestampOutOfTolerance')
    throwsKc(() => kc.verifyStripeSignature(body, header, 'whsec_b', 300, NOW), 'SignatureInvalid')
    throwsKc(() => kc.verifyStripeSignature(`${text(body)} `, header, 'whsec_a', 300, NOW), 'SignatureInvalid')
    // Two v1 values (rolling secrets): either passes.
    const other = kc.signStripePayload(body, 'whsec_b', NOW).split('v1=')[1]
    assert.equal(kc.verifyStripeSignature(body, `${header},v1=${other}`, 'whsec_b', 300, NOW), NOW)
    throwsKc(() => kc.verifyStripeSignature(body, 'v1=abc', 'whsec_a', 300, NOW), 'Malformed')
    assert.equal(throwsKc(() => kc.verifyStripeSignature(body, 'garbage', 'whsec_a', 300, NOW), 'Malformed').malformedKind, 'SignatureHeader')
    // Without `now`, the wall clock is used: an old signature is out of tolerance.
    throwsKc(() => kc.verifyStripeSignature(body, header, 'whsec_a'), 'TimestampOutOfTolerance')
    throwsKc(() => kc.verifyStripeSignature(body, kc.signStripePayload(body, 'whsec_a', 1), 'whsec_a'), 'TimestampOutOfTolerance')
  })

  test('Standard Webhooks: sign, verify, independent HMAC', async () => {
    const secret = kc.generateStandardWebhookSecret()
    assert.match(secret, /^whsec_[A-Za-z0-9+/]{43}=$/)
    const body = utf8('{"type":"user.created"}')
    const sig = kc.signStandardWebhook(body, 'msg_1', NOW, secret)
    assert.equal(sig, `v1,${b64(await hmac(fromB64(secret.slice(6)), `msg_1.${NOW}.${text(body)}`))}`)
    const headers = { 'webhook-id': 'msg_1', 'webhook-timestamp': String(NOW), 'webhook-signature': sig }
    assert.equal(kc.verifyStandardWebhook(body, headers, secret, 300, NOW), NOW)
    assert.equal(kc.verifyStandardWebhook(text(body), headers, secret, 300, NOW), NOW)
    assert.equal(kc.verifyStandardWebhook(body, { ...headers, 'webhook-signature': `v1,AAAA ${sig}` }, secret, 300, NOW), NOW)
    throwsKc(() => kc.verifyStandardWebhook(body, { ...headers, 'webhook-id': 'msg_2' }, secret, 300, NOW), 'SignatureInvalid')
    throwsKc(() => kc.verifyStandardWebhook(body, headers, secret, 300, NOW + 301), 'TimestampOutOfTolerance')
  })

  test('Standard Webhooks: the request headers as they come (Headers, IncomingHttpHeaders, Map, any case)', () => {
    const secret = kc.generateStandardWebhookSecret()
    const body = utf8('{"type":"user.created"}')
    const sig = kc.signStandardWebhook(body, 'msg_1', NOW, secret)
    const plain = { 'webhook-id': 'msg_1', 'webhook-timestamp': String(NOW), 'webhook-signature': sig }
    const verify = (h) => kc.verifyStandardWebhook(body, h, secret, 300, NOW)
    // The WHATWG Headers class (fetch, route handlers): names in any case.
    assert.equal(verify(new Headers({ 'Content-Type': 'application/json', 'Webhook-Id': 'msg_1', 'WEBHOOK-TIMESTAMP': String(NOW), 'webhook-signature': sig })), NOW)
    // A Request's headers, as a route handler gets them.
    assert.equal(verify(new Request('https://example.com/hook', { method: 'POST', headers: plain, body }).headers), NOW)
    // Node's IncomingHttpHeaders: a plain object, lowercase names, string | string[] | undefined values.
    assert.equal(verify({ ...plain, 'x-forwarded-for': ['a', 'b'], host: undefined }), NOW)
    assert.equal(verify({ ...plain, 'webhook-signature': [sig] }), NOW)
    assert.equal(verify({ 'Webhook-ID': 'msg_1', 'Webhook-Timestamp': String(NOW), 'Webhook-Signature': sig }), NOW)
    assert.equal(verify(new Map(Object.entries(plain))), NOW)
    // Other headers may hold anything: only the three are read.
    assert.equal(verify({ ...plain, 'x-n': 42, 'x-o': { a: 1 } }), NOW)

    const malformed = (headers, kind) => assert.equal(throwsKc(() => verify(headers), 'Malformed').malformedKind, kind)
    malformed({}, 'WebhookHeaderMissing')
    malformed(new Headers(), 'WebhookHeaderMissing')
    malformed({ 'webhook-id': 'msg_1', 'webhook-timestamp': String(NOW) }, 'WebhookHeaderMissing')
    malformed({ ...plain, 'webhook-id': undefined }, 'WebhookHeaderMissing')
    malformed({ ...plain, 'webhook-signature': [] }, 'WebhookHeaderMissing')
    // The same header twice: two names differing in case, an array of two, a Map.
    malformed({ ...plain, 'Webhook-Id': 'msg_1' }, 'WebhookHeaderRepeated')
    malformed({ ...plain, 'webhook-signature': [sig, sig] }, 'WebhookHeaderRepeated')
    malformed(new Map([...Object.entries(plain), ['WEBHOOK-ID', 'msg_1']]), 'WebhookHeaderRepeated')
    // Headers joins a repeated header with ", ": a joined timestamp is not a timestamp.
    const joined = new Headers(plain)
    joined.append('webhook-timestamp', String(NOW))
    malformed(joined, 'Timestamp')
    malformed({ ...plain, 'webhook-id': 'msg_\ud800' }, 'Utf8')

    // Not a header mapping: InvalidArgument naming `headers`, never a crash (an ArrayBuffer,
    // a DataView or a String object is an object, but not a header mapping either).
    for (const bad of [undefined, null, 'webhook-id: msg_1', 42, true, [], [['webhook-id', 'msg_1']], new Uint8Array(2),
      () => plain, Symbol('h'), new ArrayBuffer(2), new DataView(new ArrayBuffer(2)), Object('abc'), Object('')]) {
      const e = throwsKc(() => verify(bad), 'InvalidArgument', 'type')
      assert.equal(e.argument, 'headers')
    }
    for (const bad of [{ ...plain, 'webhook-id': 1 }, { ...plain, 'webhook-signature': [sig, 2] }, new Map([[1, 'x']]), { entries: () => ['webhook-id'].values() }]) {
      throwsKc(() => verify(bad), 'InvalidArgument', 'type')
    }
    // The caller's own code throwing (a getter, a Proxy trap, an iterator): that exception
    // propagates as is, the same object (wasm catches it at the call into JS, cleans up and
    // rethrows it), and the binding keeps working.
    class Boom extends Error {}
    const thrown = new Boom('boom')
    const boom = () => {
      throw thrown
    }
    for (const h of [
      { get entries() { return boom() } },
      { entries: boom },
      new Proxy({}, { ownKeys: boom }),
      { ...plain, get 'webhook-id'() { return boom() } },
      { entries: () => ({ [Symbol.iterator]: () => ({ next: boom }) }) },
      { entries: () => [Object.defineProperty(['webhook-id', 'x'], 0, { get: boom })].values() },
    ]) {
      assert.throws(() => verify(h), (e) => e === thrown)
    }
    assert.equal(verify(plain), NOW)
  })

  test('Telegram secret token', () => {
    assert.equal(kc.verifyTelegramSecret('tok-1_A', 'tok-1_A'), undefined)
    throwsKc(() => kc.verifyTelegramSecret('tok-1_B', 'tok-1_A'), 'SignatureInvalid')
    throwsKc(() => kc.verifyTelegramSecret('', 'tok-1_A'), 'SignatureInvalid')
    throwsKc(() => kc.verifyTelegramSecret('x', ''), 'InvalidArgument')
  })

  test('ReplayGuard accepts an id once within the ttl, bounded by capacity (fails closed)', () => {
    const g = new kc.ReplayGuard(2, 60)
    assert.equal(g.capacity, 2)
    assert.equal(g.size, 0)
    g.checkAndRecord('evt_1', NOW)
    assert.equal(g.size, 1)
    throwsKc(() => g.checkAndRecord('evt_1', NOW + 59), 'Replayed')
    throwsKc(() => g.checkAndRecord('evt_1', NOW + 60), 'Replayed') // held through now + ttl
    g.checkAndRecord('evt_1', NOW + 61) // expired: accepted again
    g.checkAndRecord('evt_2', NOW + 61)
    assert.equal(g.size, 2)
    // Full of unexpired ids: a new id is refused rather than forgetting one (fails closed).
    throwsKc(() => g.checkAndRecord('evt_3', NOW + 62), 'InvalidArgument')
    throwsKc(() => g.checkAndRecord('evt_2', NOW + 62), 'Replayed')
    g.checkAndRecord('evt_3', NOW + 122) // both expired: room again
    throwsKc(() => g.checkAndRecord('', NOW + 122), 'InvalidArgument')
    throwsKc(() => new kc.ReplayGuard(1, 0), 'InvalidArgument')
    const d = new kc.ReplayGuard()
    assert.equal(d.capacity, 100000)
    d.checkAndRecord('evt_wallclock')
    throwsKc(() => d.checkAndRecord('evt_wallclock'), 'Replayed')
    throwsKc(() => new kc.ReplayGuard(0), 'InvalidArgument')
    throwsKc(() => new kc.ReplayGuard(0, 60), 'InvalidArgument')
  })

  test('JWT: per-tenant, kid in header, independent HMAC, survives rotation, alg pinned', async () => {
    const root = crypto.getRandomValues(new Uint8Array(32))
    const k = Keyring.fromSecret(root)
    const token = k.signJwt('acme', { sub: 'user-1', aud: 'dash' }, 600, NOW)
    const [h, p] = token.split('.').slice(0, 2).map((x) => JSON.parse(fromUtf8(fromB64(x))))
    assert.deepEqual(h, { alg: 'HS256', typ: 'JWT', kid: '1' })
    assert.equal(p.iat, NOW)
    assert.equal(p.exp, NOW + 600)
    // The tenant secret is HKDF(root, "keycustody/v1/jwt" || 0x00 || tenant): check the MAC independently.
    const secret = await hkdf(root, 'keycustody/v1', concat(utf8('keycustody/v1/jwt'), new Uint8Array([0]), utf8('acme')), 32)
    const [h64, p64, s64] = token.split('.')
    assert.equal(b64url(await hmac(secret, `${h64}.${p64}`)), s64)
    assert.deepEqual(k.verifyJwt('acme', token, { audience: 'dash', now: NOW + 1 }), { sub: 'user-1', aud: 'dash', iat: NOW, exp: NOW + 600 })
    assert.equal(k.verifyJwt('acme', token, { audience: 'dash', now: NOW + 600 + 5, leeway: 10 }).sub, 'user-1')
    assert.equal(k.verifyJwt('acme', k.signJwt('acme', '{"sub":"x"}', 60, NOW), { now: NOW }).sub, 'x')
    throwsKc(() => k.verifyJwt('globex', token, { audience: 'dash', now: NOW }), 'SignatureInvalid')
    assert.equal(throwsKc(() => k.verifyJwt('acme', token, { now: NOW }), 'ClaimMismatch').claim, 'aud')
    assert.equal(throwsKc(() => k.verifyJwt('acme', token, { audience: 'api', now: NOW }), 'ClaimMismatch').claim, 'aud')
    throwsKc(() => k.verifyJwt('acme', token, { audience: 'dash', issuer: 'x', now: NOW }), 'ClaimMismatch')
    throwsKc(() => k.verifyJwt('acme', token, { audience: 'dash', now: NOW + 601 }), 'Expired')
    throwsKc(() => k.verifyJwt('acme', token, { audience: 'dash', now: NOW - 100 }), 'NotYetValid')
    // alg none / HS512 are refused whatever the signature.
    const none = b64url(utf8(JSON.stringify({ alg: 'none', typ: 'JWT', kid: '1' })))
    throwsKc(() => k.verifyJwt('acme', `${none}.${token.split('.')[1]}.`, { audience: 'dash', now: NOW }), 'SignatureInvalid')
    // jwtSecret: the secret a stock HMAC verifies with.
    const js = k.jwtSecret('acme')
    assert.equal(js.kid, 1)
    assert.equal(js.secret.length, 32)
    assert.equal(toHex(js.secret), toHex(secret))
    // Rotation: old tokens still verify (kid 1 is decrypt-only), new ones carry kid 2.
    k.rotate()
    assert.equal(k.verifyJwt('acme', token, { audience: 'dash', now: NOW }).sub, 'user-1')
    assert.equal(k.jwtSecret('acme').kid, 2)
    const t2 = k.signJwt('acme', '{"sub":"user-2"}', 60, NOW)
    assert.equal(JSON.parse(fromUtf8(fromB64(t2.split('.')[0]))).kid, '2')
    const [h2, p2, sig2] = t2.split('.')
    assert.equal(b64url(await hmac(k.jwtSecret('acme').secret, `${h2}.${p2}`)), sig2)
    k.retire(1)
    throwsKc(() => k.verifyJwt('acme', token, { audience: 'dash', now: NOW }), 'KeyRetired')
    // Claims that cannot be JSON are a type error; claims that set exp are refused by the core.
    throwsKc(() => k.signJwt('acme', { n: 10n }, 60, NOW), 'InvalidArgument', 'type')
    throwsKc(() => k.signJwt('acme', { exp: 1 }, 60, NOW), 'InvalidArgument')
    throwsKc(() => k.signJwt('acme', {}, 0, NOW), 'InvalidArgument')
    throwsKc(() => k.verifyJwt('acme', t2, { audience: 42, now: NOW }), 'InvalidArgument', 'type')
    throwsKc(() => k.verifyJwt('acme', t2, { now: 'soon' }), 'InvalidArgument', 'type')
    throwsKc(() => k.verifyJwt('acme', t2, 'options'), 'InvalidArgument', 'type')
  })

  test('one-time codes: issue, wrong attempts, lock, single use, expiry', () => {
    const k = Keyring.generate()
    const issued = k.issueCode('user@example.com', NOW)
    assert.match(issued.code, /^\d{6}$/)
    assert.equal(issued.expiresAt, NOW + 900)
    assert.ok(!issued.record.includes(issued.code), 'the record holds the code in clear')
    const wrong = issued.code === '000000' ? '000001' : '000000'
    let r = k.verifyCode('user@example.com', wrong, issued.record, NOW + 1)
    assert.deepEqual([r.status, r.attemptsLeft, r.changed], ['wrong', 4, true])
    r = k.verifyCode('user@example.com', issued.code, r.record, NOW + 2)
    assert.equal(r.status, 'valid')
    assert.equal(k.verifyCode('user@example.com', issued.code, r.record, NOW + 3).status, 'used')
    // Another subject's code does not match; expiry; lock after 5 failures.
    assert.equal(k.verifyCode('other@example.com', issued.code, issued.record, NOW + 1).status, 'wrong')
    assert.equal(k.verifyCode('user@example.com', issued.code, issued.record, NOW + 901).status, 'expired')
    let rec = issued.record
    for (let i = 0; i < 5; i++) rec = k.verifyCode('user@example.com', wrong, rec, NOW + 1).record
    assert.equal(k.verifyCode('user@example.com', issued.code, rec, NOW + 1).status, 'locked')
    throwsKc(() => k.verifyCode('user@example.com', issued.code, '{}', NOW), 'Malformed')
  })

  test('TOTP: RFC 6238 codes, verify with replay prevention, URI, raw keys, steps', () => {
    const secret = kc.generateTotpSecret()
    assert.match(secret, /^[A-Z2-7]{32}$/)
    assert.match(kc.totpUri(secret, 'alice@example.com', 'Acme'), /^otpauth:\/\/totp\/Acme:alice%40example\.com\?secret=/)
    const code = kc.totpAt(secret, NOW)
    assert.match(code, /^\d{6}$/)
    const step = kc.verifyTotpAt(secret, code, NOW)
    assert.equal(step, Math.floor(NOW / 30))
    assert.equal(kc.verifyTotpAt(secret, code, NOW + 30), step, 'one step late is accepted')
    throwsKc(() => kc.verifyTotpAt(secret, code, NOW, step), 'Replayed')
    throwsKc(() => kc.verifyTotpAt(secret, code, NOW + 90), 'SignatureInvalid')
    assert.equal(kc.totpStep(NOW), step)
    assert.equal(kc.totpStep(59), 1)
    assert.equal(kc.totpStep(0), 0)
    throwsKc(() => kc.totpStep(-1), 'InvalidArgument')
    assert.equal(typeof kc.totpStep(), 'number') // the clock
    // RFC 6238 appendix B, SHA-1, T = 59 -> 94287082 (6 digits: 287082).
    assert.equal(kc.totpAt('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', 59), '287082')
    assert.equal(
      kc.totpUri('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', 'alice@example.com', 'Acme Co'),
      'otpauth://totp/Acme%20Co:alice%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Acme%20Co&algorithm=SHA1&digits=6&period=30',
    )
    const seed = (n) => utf8('1234567890'.repeat(7).slice(0, n))
    assert.equal(kc.totpRawAt(seed(20), 59, 30, 8, 'SHA1'), '94287082')
    assert.equal(kc.totpRawAt(seed(32), 59, 30, 8, 'SHA256'), '46119246')
    assert.equal(kc.totpRawAt(seed(64), 59, 30, 8, 'SHA512'), '90693936')
    assert.equal(kc.totpRawAt(seed(20), 1111111109, 30, 8, 'SHA1'), '07081804')
    // The defaults: 30 s, 6 digits, SHA-1.
    assert.equal(kc.totpRawAt(seed(20), 59), '287082')
    assert.equal(kc.totpRawAt(seed(20), 59, undefined, 8), '94287082')
    throwsKc(() => kc.totpRawAt(seed(20), 59, 30, 8, 'MD5'), 'InvalidArgument')
    throwsKc(() => kc.totpRawAt(seed(20), 59, 0), 'InvalidArgument')
    throwsKc(() => kc.totpRawAt(seed(20), 59, 30, 9), 'InvalidArgument')
    // The raw key may be a string, taken as its UTF-8 bytes (as in Python), never decoded.
    assert.equal(kc.totpRawAt('12345678901234567890', 59, 30, 8, 'SHA1'), '94287082')
    assert.equal(kc.totpRawAt('3132', 59), kc.totpRawAt(utf8('3132'), 59))
    assert.equal(throwsKc(() => kc.totpAt('not base32!', NOW), 'Malformed').malformedKind, 'Totp')
  })

  test('delivery: seal to a public key, open with the private key, bound to the owner', () => {
    const kp = kc.generateDeliveryKeypair()
    assert.match(kp.publicKey, /^kcpk1\.[A-Za-z0-9_-]{43}$/)
    assert.match(kp.privateKey, /^kcsk1\.[A-Za-z0-9_-]{43}$/)
    assert.equal(kc.deliveryPublicKey(kp.privateKey), kp.publicKey)
    const blob = kc.sealForDelivery(kp.publicKey, 'tenant-1', 'sk-ant-api03-abc')
    assert.match(blob, /^kcd1\./)
    assert.equal(text(kc.openDelivery(kp.privateKey, 'tenant-1', blob)), 'sk-ant-api03-abc')
    throwsKc(() => kc.openDelivery(kp.privateKey, 'tenant-2', blob), 'DecryptFailed')
    throwsKc(() => kc.openDelivery(kc.generateDeliveryKeypair().privateKey, 'tenant-1', blob), 'DecryptFailed')
    throwsKc(() => kc.openDelivery(kp.privateKey, 'tenant-1', blob.slice(0, -2)), 'DecryptFailed')
    assert.notEqual(kc.sealForDelivery(kp.publicKey, 'tenant-1', 'x'), kc.sealForDelivery(kp.publicKey, 'tenant-1', 'x'), 'randomised')
    assert.equal(throwsKc(() => kc.sealForDelivery(kp.privateKey, 'acme', 'x'), 'Malformed').malformedKind, 'DeliveryKey')
    throwsKc(() => kc.sealForDelivery(kp.publicKey, '', 'x'), 'InvalidOwner')
    assert.equal(throwsKc(() => kc.sealForDelivery(kp.publicKey, 'acme', new Uint8Array(1024 * 1024 + 1)), 'TooLarge').limit, 1024 * 1024)
  })

  test('delivery: the VM shows its key fingerprint, the browser pins it', () => {
    const vm = kc.generateDeliveryKeypair()
    const fp = kc.deliveryKeyFingerprint(vm.publicKey)
    assert.match(fp, /^kcfp1\.[A-Z2-7]{4}(-[A-Z2-7]{4}){7}$/)
    assert.equal(kc.deliveryKeyFingerprint(kc.deliveryPublicKey(vm.privateKey)), fp)
    const blob = kc.sealForDelivery(vm.publicKey, 'acme', 'sk-ant-x', fp)
    assert.equal(text(kc.openDelivery(vm.privateKey, 'acme', blob)), 'sk-ant-x')
    // null / undefined: no pin.
    assert.match(kc.sealForDelivery(vm.publicKey, 'acme', 'x', null), /^kcd1\./)
    assert.match(kc.sealForDelivery(vm.publicKey, 'acme', 'x', undefined), /^kcd1\./)
    // A key served in place of the VM's (a compromised control plane) is refused.
    const other = kc.generateDeliveryKeypair()
    assert.equal(throwsKc(() => kc.sealForDelivery(other.publicKey, 'acme', 'sk-ant-x', fp), 'ClaimMismatch').claim, 'delivery key fingerprint')
    // The pin is parsed strictly; a non-string pin is refused.
    assert.equal(throwsKc(() => kc.sealForDelivery(vm.publicKey, 'acme', 'x', fp.toLowerCase()), 'Malformed').malformedKind, 'DeliveryKey')
    throwsKc(() => kc.sealForDelivery(vm.publicKey, 'acme', 'x', fp.replaceAll('-', '')), 'Malformed')
    throwsKc(() => kc.sealForDelivery(vm.publicKey, 'acme', 'x', 42), 'InvalidArgument', 'type')
    throwsKc(() => kc.deliveryKeyFingerprint(vm.privateKey), 'Malformed')
  })

  test('deriveDeliveryKeypair is deterministic and needs 32 bytes', () => {
    const ikm = crypto.getRandomValues(new Uint8Array(32))
    const a = kc.deriveDeliveryKeypair(ikm)
    assert.deepEqual({ ...kc.deriveDeliveryKeypair(ikm) }, { ...a })
    assert.notEqual(kc.deriveDeliveryKeypair(crypto.getRandomValues(new Uint8Array(32))).publicKey, a.publicKey)
    const blob = kc.sealForDelivery(a.publicKey, 'vm-1', 'x')
    assert.equal(text(kc.openDelivery(kc.deriveDeliveryKeypair(ikm).privateKey, 'vm-1', blob)), 'x')
    throwsKc(() => kc.deriveDeliveryKeypair(new Uint8Array(31)), 'InvalidArgument')
    // A string is taken as its UTF-8 bytes (as in Python).
    const s = kc.deriveDeliveryKeypair('k'.repeat(32))
    assert.deepEqual({ ...kc.deriveDeliveryKeypair(utf8('k'.repeat(32))) }, { ...s })
    assert.notEqual(kc.deriveDeliveryKeypair('j'.repeat(32)).publicKey, s.publicKey)
    throwsKc(() => kc.deriveDeliveryKeypair('k'.repeat(31)), 'InvalidArgument')
  })

  test('scrub, validateSlug, validateEmail', () => {
    const key = 'sk-ant-api03-' + 'x'.repeat(80) + 'AA'
    const out = kc.scrub(`calling with ${key} now`)
    assert.ok(!out.includes(key))
    assert.match(out, /\[REDACTED:anthropic\]/)
    assert.ok(!kc.scrub(`Authorization: Bearer sk-ant-api03-${'x'.repeat(90)}AA`).includes('sk-ant-api03'))
    assert.equal(kc.scrub('nothing to hide'), 'nothing to hide')
    const apiKey = kc.generateApiKey('obee').key
    assert.ok(!kc.scrub(`key=${apiKey}`).includes(apiKey))
    assert.equal(kc.validateSlug('acme-co'), undefined)
    for (const bad of ['ab', '-acme', 'acme-', 'Acme', 'a'.repeat(33), 'ac_me']) throwsKc(() => kc.validateSlug(bad), 'InvalidArgument')
    assert.equal(kc.validateEmail('a.b@example.co.uk'), undefined)
    assert.equal(kc.validateEmail('a@example.com'), undefined)
    for (const bad of ['a@b', 'a b@example.com', '"a"@example.com', 'a@example.com\n', '@example.com']) throwsKc(() => kc.validateEmail(bad), 'InvalidArgument')
  })

  test('pseudonyms: stable, keyed, per tenant, change with the primary key', () => {
    const k = Keyring.generate()
    const p = k.pseudonymize('203.0.113.7')
    assert.match(p, /^[0-9a-f]{64}$/)
    assert.equal(k.pseudonymize('203.0.113.7'), p)
    assert.notEqual(k.pseudonymize('203.0.113.8'), p)
    assert.notEqual(Keyring.generate().pseudonymize('203.0.113.7'), p)
    assert.notEqual(k.pseudonymizeFor('acme', '203.0.113.7'), k.pseudonymizeFor('globex', '203.0.113.7'))
    assert.notEqual(k.pseudonymizeFor('acme', '203.0.113.7'), p)
    k.rotate()
    assert.notEqual(k.pseudonymize('203.0.113.7'), p)
  })

  test('legacy import: WebCrypto-made blobs and openssl files decrypt', async () => {
    const blob = await legacyGcmBlob(2000)
    assert.equal(text(kc.decryptLegacyPbkdf2Gcm(blob, LEGACY_PASSWORD, { iterations: 2000 })), 'legacy secret')
    assert.equal(text(kc.decryptLegacyPbkdf2Gcm(blob, utf8(LEGACY_PASSWORD), { iterations: 2000 })), 'legacy secret')
    throwsKc(() => kc.decryptLegacyPbkdf2Gcm(blob, 'wrong', { iterations: 2000 }), 'DecryptFailed')
    throwsKc(() => kc.decryptLegacyPbkdf2Gcm(blob, LEGACY_PASSWORD, { iterations: 2001 }), 'DecryptFailed')
    throwsKc(() => kc.decryptLegacyPbkdf2Gcm(blob, LEGACY_PASSWORD, { iterations: 0 }), 'InvalidArgument')
    // The default is 100,000 iterations.
    assert.equal(text(kc.decryptLegacyPbkdf2Gcm(await legacyGcmBlob(100000), LEGACY_PASSWORD)), 'legacy secret')
    const file = await opensslFile(3000)
    assert.equal(text(kc.decryptOpensslEnc(file, LEGACY_PASSWORD, 3000)), 'legacy file')
    throwsKc(() => kc.decryptOpensslEnc(file.subarray(0, 20), LEGACY_PASSWORD, 3000), 'Malformed')
    assert.equal(throwsKc(() => kc.decryptOpensslEnc(file.subarray(0, 8), LEGACY_PASSWORD, 3000), 'Malformed').malformedKind, 'Legacy')
    // Fixed fixtures: PBKDF2 1000 / "pw" AES-256-GCM, and `openssl enc -aes-256-cbc -pbkdf2 -iter 1000 -pass pass:pw`.
    const fixed = 'AQEBAQEBAQEBAQEBAQEBAQICAgICAgICAgICAit53DXJ+MvbbGAUsJ7qo4iq8dSR+HyYyKhGEKko'
    assert.equal(text(kc.decryptLegacyPbkdf2Gcm(fixed, 'pw', { iterations: 1000 })), 'legacy secret')
    const data = fromHex('53616c7465645f5fe023088f91be88ddac3d200feb553e7acf24a531a5f89c47')
    assert.equal(text(kc.decryptOpensslEnc(data, 'pw', 1000)), 'openssl secret')
    // The file's data is bytes only (as in Python): a string is refused, never read as UTF-8.
    for (const str of ['Salted__' + 'x'.repeat(24), String.fromCharCode(...data)]) {
      assert.equal(throwsKc(() => kc.decryptOpensslEnc(str, 'pw', 1000), 'InvalidArgument', 'type').argument, 'data')
    }
    // Migration: a legacy value re-sealed as kc1.
    const k = Keyring.generate()
    const sealed = k.seal('tenant-1', kc.decryptLegacyPbkdf2Gcm(blob, LEGACY_PASSWORD, { iterations: 2000 }), 'openrouter_key')
    assert.equal(k.openText('tenant-1', sealed, 'openrouter_key'), 'legacy secret')
  })

  test('options objects: each property is type-checked without echoing its value', async () => {
    const blob = await legacyGcmBlob(1000)
    for (const [opts, arg] of [
      [{ iterations: 'sk-MARKER-opt' }, 'type'],
      [{ iterations: 1.5 }, 'range'],
      [{ saltLen: -1 }, 'range'],
      [{ ivLen: '12' }, 'type'],
    ]) {
      const e = throwsKc(() => kc.decryptLegacyPbkdf2Gcm(blob, LEGACY_PASSWORD, opts), 'InvalidArgument', arg)
      assert.ok(!e.message.includes('sk-MARKER-opt'))
      assert.match(e.message, /(iterations|saltLen|ivLen)/)
    }
    // The message and the argument detail name options.<property>, in both packages.
    const named = throwsKc(() => kc.decryptLegacyPbkdf2Gcm(blob, LEGACY_PASSWORD, { iterations: 1.5 }), 'InvalidArgument', 'range')
    assert.match(named.message, /options\.iterations/)
    assert.equal(named.argument, 'options.iterations')
    // A Buffer/Uint8Array, another typed array, a DataView or an ArrayBuffer is not an
    // options object (its properties would all read as the defaults).
    const t0 = Keyring.generate().signJwt('acme', {}, 60, NOW)
    for (const notOpts of [utf8('sk-MARKER-opt'), new Uint16Array(2), new DataView(new ArrayBuffer(2)), new ArrayBuffer(2)]) {
      const e = throwsKc(() => kc.decryptLegacyPbkdf2Gcm(blob, LEGACY_PASSWORD, notOpts), 'InvalidArgument', 'type')
      assert.equal(e.argument, 'options')
      assert.ok(!e.message.includes('sk-MARKER-opt'))
      assert.equal(throwsKc(() => Keyring.generate().verifyJwt('acme', t0, notOpts), 'InvalidArgument', 'type').argument, 'options')
    }
    // A getter of the caller's options object that throws: that exception propagates as is.
    const thrown = new Error('boom')
    const getter = { get iterations() { throw thrown } }
    assert.throws(() => kc.decryptLegacyPbkdf2Gcm(blob, LEGACY_PASSWORD, getter), (e) => e === thrown)
    // Unknown properties are ignored; undefined/null properties mean the default.
    assert.equal(text(kc.decryptLegacyPbkdf2Gcm(blob, LEGACY_PASSWORD, { iterations: 1000, extra: true, saltLen: undefined, ivLen: null })), 'legacy secret')
    const k = Keyring.generate()
    const t = k.signJwt('acme', {}, 60, NOW)
    for (const opts of [{ issuer: 1, now: NOW }, { leeway: -5, now: NOW }, { now: NOW + 0.5 }]) {
      assert.equal(assert.throws(() => k.verifyJwt('acme', t, opts)).code, 'KC_INVALID_ARGUMENT')
    }
  })
}
