// Behaviour of the platform pieces: webhooks, replay guard, JWT, one-time codes,
// TOTP, delivery, scrub/validate, pseudonyms, legacy import. Time is always passed in.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import { kc, throwsKc, rejectsKc } from './helpers.mjs'
import { legacy } from './specs.mjs'

const NOW = 1700000000

test('Stripe: sign, verify, tolerance, secret rolling, independent HMAC', () => {
  const body = Buffer.from('{"id":"evt_1","type":"invoice.paid"}')
  const header = kc.signStripePayload(body, 'whsec_a', NOW)
  // Independent check with node:crypto.
  const mac = crypto.createHmac('sha256', 'whsec_a').update(`${NOW}.${body}`).digest('hex')
  assert.equal(header, `t=${NOW},v1=${mac}`)
  assert.equal(kc.verifyStripeSignature(body, header, 'whsec_a', 300, NOW), NOW)
  assert.equal(kc.verifyStripeSignature(body.toString(), header, 'whsec_a', undefined, NOW + 300), NOW)
  throwsKc(() => kc.verifyStripeSignature(body, header, 'whsec_a', 300, NOW + 301), 'TimestampOutOfTolerance')
  throwsKc(() => kc.verifyStripeSignature(body, header, 'whsec_a', 10, NOW - 11), 'TimestampOutOfTolerance')
  throwsKc(() => kc.verifyStripeSignature(body, header, 'whsec_b', 300, NOW), 'SignatureInvalid')
  // Two v1 values (rolling secrets): either passes.
  const other = kc.signStripePayload(body, 'whsec_b', NOW).split('v1=')[1]
  assert.equal(kc.verifyStripeSignature(body, `${header},v1=${other}`, 'whsec_b', 300, NOW), NOW)
  throwsKc(() => kc.verifyStripeSignature(body, 'v1=abc', 'whsec_a', 300, NOW), 'Malformed')
  // Without `now`, the wall clock is used: an old signature is out of tolerance.
  throwsKc(() => kc.verifyStripeSignature(body, header, 'whsec_a'), 'TimestampOutOfTolerance')
})

test('Standard Webhooks: sign, verify, independent HMAC', () => {
  const secret = kc.generateStandardWebhookSecret()
  assert.match(secret, /^whsec_[A-Za-z0-9+/]{43}=$/)
  const body = Buffer.from('{"type":"user.created"}')
  const sig = kc.signStandardWebhook(body, 'msg_1', NOW, secret)
  const key = Buffer.from(secret.slice(6), 'base64')
  const mac = crypto.createHmac('sha256', key).update(`msg_1.${NOW}.${body}`).digest('base64')
  assert.equal(sig, `v1,${mac}`)
  const headers = { 'webhook-id': 'msg_1', 'webhook-timestamp': String(NOW), 'webhook-signature': sig }
  assert.equal(kc.verifyStandardWebhook(body, headers, secret, 300, NOW), NOW)
  assert.equal(kc.verifyStandardWebhook(body, { ...headers, 'webhook-signature': `v1,AAAA ${sig}` }, secret, 300, NOW), NOW)
  throwsKc(() => kc.verifyStandardWebhook(body, { ...headers, 'webhook-id': 'msg_2' }, secret, 300, NOW), 'SignatureInvalid')
  throwsKc(() => kc.verifyStandardWebhook(body, headers, secret, 300, NOW + 301), 'TimestampOutOfTolerance')
})

test('Standard Webhooks: the request headers as they come (Headers, IncomingHttpHeaders, any case)', () => {
  const secret = kc.generateStandardWebhookSecret()
  const body = Buffer.from('{"type":"user.created"}')
  const sig = kc.signStandardWebhook(body, 'msg_1', NOW, secret)
  const plain = { 'webhook-id': 'msg_1', 'webhook-timestamp': String(NOW), 'webhook-signature': sig }
  // The global WHATWG Headers class (fetch, Next.js route handlers): names in any case.
  const h = new Headers({ 'Content-Type': 'application/json', 'Webhook-Id': 'msg_1', 'WEBHOOK-TIMESTAMP': String(NOW), 'webhook-signature': sig })
  assert.equal(kc.verifyStandardWebhook(body, h, secret, 300, NOW), NOW)
  // A Request's headers, as a route handler gets them.
  const req = new Request('https://example.com/hook', { method: 'POST', headers: plain, body })
  assert.equal(kc.verifyStandardWebhook(body, req.headers, secret, 300, NOW), NOW)
  // Node's IncomingHttpHeaders: a plain object, lowercase names, string | string[] | undefined values.
  assert.equal(kc.verifyStandardWebhook(body, { ...plain, 'x-forwarded-for': ['a', 'b'], host: undefined }, secret, 300, NOW), NOW)
  assert.equal(kc.verifyStandardWebhook(body, { ...plain, 'webhook-signature': [sig] }, secret, 300, NOW), NOW)
  assert.equal(kc.verifyStandardWebhook(body, { 'Webhook-ID': 'msg_1', 'Webhook-Timestamp': String(NOW), 'Webhook-Signature': sig }, secret, 300, NOW), NOW)
  // A Map (anything with entries()).
  assert.equal(kc.verifyStandardWebhook(body, new Map(Object.entries(plain)), secret, 300, NOW), NOW)
  // Other headers may hold anything: only the three are read.
  assert.equal(kc.verifyStandardWebhook(body, { ...plain, 'x-n': 42, 'x-o': { a: 1 } }, secret, 300, NOW), NOW)

  const malformed = (headers, kind) => {
    const e = throwsKc(() => kc.verifyStandardWebhook(body, headers, secret, 300, NOW), 'Malformed')
    assert.equal(e.malformedKind, kind)
  }
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

  // Not a header mapping: a TypeError naming the argument, never a crash.
  for (const bad of [undefined, null, 'webhook-id: msg_1', 42, true, [], [['webhook-id', 'msg_1']], Buffer.from('x'), () => plain, Symbol('h')]) {
    const e = throwsKc(() => kc.verifyStandardWebhook(body, bad, secret, 300, NOW), 'InvalidArgument', TypeError)
    assert.equal(e.argument, 'headers')
  }
  // The caller's own code throwing (a getter, a Proxy trap, an iterator): that exception
  // propagates, and the binding keeps working.
  const boom = () => {
    throw new Error('boom')
  }
  for (const h of [{ get entries() { return boom() } }, { entries: boom }, new Proxy({}, { ownKeys: boom }), { ...plain, get 'webhook-id'() { return boom() } }]) {
    assert.throws(() => kc.verifyStandardWebhook(body, h, secret, 300, NOW), /^Error: boom$/)
  }
  assert.equal(kc.verifyStandardWebhook(body, plain, secret, 300, NOW), NOW)
  for (const bad of [{ ...plain, 'webhook-id': 1 }, { ...plain, 'webhook-signature': [sig, 2] }, new Map([[1, 'x']]), { entries: () => ['webhook-id'].values() }]) {
    throwsKc(() => kc.verifyStandardWebhook(body, bad, secret, 300, NOW), 'InvalidArgument', TypeError)
  }
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
  // Full of unexpired ids: a new id is refused rather than forgetting one (fails closed).
  throwsKc(() => g.checkAndRecord('evt_3', NOW + 62), 'InvalidArgument')
  throwsKc(() => g.checkAndRecord('evt_2', NOW + 62), 'Replayed')
  g.checkAndRecord('evt_3', NOW + 122) // both expired: room again
  throwsKc(() => new kc.ReplayGuard(1, 0), 'InvalidArgument')
  const d = new kc.ReplayGuard()
  assert.equal(d.capacity, 100000)
  d.checkAndRecord('evt_wallclock')
  throwsKc(() => d.checkAndRecord('evt_wallclock'), 'Replayed')
  throwsKc(() => new kc.ReplayGuard(0), 'InvalidArgument')
})

test('JWT: per-tenant, kid in header, survives rotation, alg pinned', () => {
  const root = crypto.randomBytes(32)
  const k = kc.Keyring.fromSecret(root)
  const token = k.signJwt('acme', { sub: 'user-1', aud: 'dash' }, 600, NOW)
  const [h, p] = token.split('.').slice(0, 2).map((x) => JSON.parse(Buffer.from(x, 'base64url')))
  assert.deepEqual(h, { alg: 'HS256', typ: 'JWT', kid: '1' })
  assert.equal(p.iat, NOW)
  assert.equal(p.exp, NOW + 600)
  // The tenant secret is HKDF(root, "keycustody/v1/jwt" || 0x00 || tenant): check the MAC independently.
  const info = Buffer.concat([Buffer.from('keycustody/v1/jwt'), Buffer.from([0]), Buffer.from('acme')])
  const secret = Buffer.from(crypto.hkdfSync('sha256', root, 'keycustody/v1', info, 32))
  const [h64, p64, s64] = token.split('.')
  assert.equal(crypto.createHmac('sha256', secret).update(`${h64}.${p64}`).digest('base64url'), s64)
  assert.deepEqual(k.verifyJwt('acme', token, { audience: 'dash', now: NOW + 1 }), { sub: 'user-1', aud: 'dash', iat: NOW, exp: NOW + 600 })
  assert.deepEqual(k.verifyJwt('acme', token, { audience: 'dash', now: NOW + 600 + 5, leeway: 10 }).sub, 'user-1')
  throwsKc(() => k.verifyJwt('globex', token, { audience: 'dash', now: NOW }), 'SignatureInvalid')
  throwsKc(() => k.verifyJwt('acme', token, { now: NOW }), 'ClaimMismatch')
  throwsKc(() => k.verifyJwt('acme', token, { audience: 'api', now: NOW }), 'ClaimMismatch')
  throwsKc(() => k.verifyJwt('acme', token, { audience: 'dash', issuer: 'x', now: NOW }), 'ClaimMismatch')
  throwsKc(() => k.verifyJwt('acme', token, { audience: 'dash', now: NOW + 601 }), 'Expired')
  throwsKc(() => k.verifyJwt('acme', token, { audience: 'dash', now: NOW - 100 }), 'NotYetValid')
  // alg none / HS512 are refused whatever the signature.
  const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT', kid: '1' })).toString('base64url')
  throwsKc(() => k.verifyJwt('acme', `${none}.${token.split('.')[1]}.`, { audience: 'dash', now: NOW }), 'SignatureInvalid')
  // Rotation: old tokens still verify (kid 1 is decrypt-only), new ones carry kid 2.
  k.rotate()
  assert.equal(k.verifyJwt('acme', token, { audience: 'dash', now: NOW }).sub, 'user-1')
  const t2 = k.signJwt('acme', '{"sub":"user-2"}', 60, NOW)
  assert.equal(JSON.parse(Buffer.from(t2.split('.')[0], 'base64url')).kid, '2')
  k.retire(1)
  throwsKc(() => k.verifyJwt('acme', token, { audience: 'dash', now: NOW }), 'KeyRetired')
  // Claims that cannot be JSON are a TypeError; claims that set exp are refused by the core.
  throwsKc(() => k.signJwt('acme', { n: 10n }, 60, NOW), 'InvalidArgument', TypeError)
  throwsKc(() => k.signJwt('acme', { exp: 1 }, 60, NOW), 'InvalidArgument')
  throwsKc(() => k.verifyJwt('acme', t2, { audience: 42, now: NOW }), 'InvalidArgument', TypeError)
  throwsKc(() => k.verifyJwt('acme', t2, { now: 'soon' }), 'InvalidArgument', TypeError)
  throwsKc(() => k.verifyJwt('acme', t2, 'options'), 'InvalidArgument', TypeError)
})

test('one-time codes: issue, wrong attempts, lock, single use, expiry', () => {
  const k = kc.Keyring.generate()
  const issued = k.issueCode('user@example.com', NOW)
  assert.match(issued.code, /^\d{6}$/)
  assert.equal(issued.expiresAt, NOW + 900)
  assert.ok(!issued.record.includes(issued.code), 'the record holds the code in clear')
  const wrong = issued.code === '000000' ? '000001' : '000000'
  let r = k.verifyCode('user@example.com', wrong, issued.record, NOW + 1)
  assert.equal(r.status, 'wrong')
  assert.equal(r.attemptsLeft, 4)
  assert.equal(r.changed, true)
  r = k.verifyCode('user@example.com', issued.code, r.record, NOW + 2)
  assert.equal(r.status, 'valid')
  const used = k.verifyCode('user@example.com', issued.code, r.record, NOW + 3)
  assert.equal(used.status, 'used')
  // Another subject's code does not match; expiry; lock after 5 failures.
  assert.equal(k.verifyCode('other@example.com', issued.code, issued.record, NOW + 1).status, 'wrong')
  assert.equal(k.verifyCode('user@example.com', issued.code, issued.record, NOW + 901).status, 'expired')
  let rec = issued.record
  for (let i = 0; i < 5; i++) rec = k.verifyCode('user@example.com', wrong, rec, NOW + 1).record
  assert.equal(k.verifyCode('user@example.com', issued.code, rec, NOW + 1).status, 'locked')
  throwsKc(() => k.verifyCode('user@example.com', issued.code, '{}', NOW), 'Malformed')
})

test('TOTP: RFC 6238 code, verify with replay prevention, URI', () => {
  const secret = kc.generateTotpSecret()
  assert.match(secret, /^[A-Z2-7]{32}$/)
  const code = kc.totpAt(secret, NOW)
  assert.match(code, /^\d{6}$/)
  const step = kc.verifyTotpAt(secret, code, NOW)
  assert.equal(step, Math.floor(NOW / 30))
  assert.equal(kc.verifyTotpAt(secret, code, NOW + 30), step, 'one step late is accepted')
  throwsKc(() => kc.verifyTotpAt(secret, code, NOW, step), 'Replayed')
  throwsKc(() => kc.verifyTotpAt(secret, code, NOW + 90), 'SignatureInvalid')
  // RFC 6238 appendix B, SHA-1, T = 59 -> 94287082 (6 digits: 287082).
  assert.equal(kc.totpAt('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', 59), '287082')
  assert.equal(
    kc.totpUri('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', 'alice@example.com', 'Acme Co'),
    'otpauth://totp/Acme%20Co:alice%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Acme%20Co&algorithm=SHA1&digits=6&period=30',
  )
})

test('delivery: seal to a public key, open with the private key, bound to the owner', () => {
  const kp = kc.generateDeliveryKeypair()
  assert.match(kp.publicKey, /^kcpk1\.[A-Za-z0-9_-]{43}$/)
  assert.match(kp.privateKey, /^kcsk1\.[A-Za-z0-9_-]{43}$/)
  assert.equal(kc.deliveryPublicKey(kp.privateKey), kp.publicKey)
  const blob = kc.sealForDelivery(kp.publicKey, 'tenant-1', 'sk-ant-api03-abc')
  assert.match(blob, /^kcd1\./)
  assert.equal(kc.openDelivery(kp.privateKey, 'tenant-1', blob).toString(), 'sk-ant-api03-abc')
  throwsKc(() => kc.openDelivery(kp.privateKey, 'tenant-2', blob), 'DecryptFailed')
  throwsKc(() => kc.openDelivery(kc.generateDeliveryKeypair().privateKey, 'tenant-1', blob), 'DecryptFailed')
  assert.notEqual(kc.sealForDelivery(kp.publicKey, 'tenant-1', 'x'), kc.sealForDelivery(kp.publicKey, 'tenant-1', 'x'))
})

test('delivery: the VM shows its key fingerprint, the browser pins it', () => {
  const vm = kc.generateDeliveryKeypair()
  const fp = kc.deliveryKeyFingerprint(vm.publicKey)
  assert.match(fp, /^kcfp1\.[A-Z2-7]{4}(-[A-Z2-7]{4}){7}$/)
  assert.equal(kc.deliveryKeyFingerprint(kc.deliveryPublicKey(vm.privateKey)), fp)
  const blob = kc.sealForDelivery(vm.publicKey, 'acme', 'sk-ant-x', fp)
  assert.equal(kc.openDelivery(vm.privateKey, 'acme', blob).toString(), 'sk-ant-x')
  // null / undefined: no pin.
  assert.match(kc.sealForDelivery(vm.publicKey, 'acme', 'x', null), /^kcd1\./)
  assert.match(kc.sealForDelivery(vm.publicKey, 'acme', 'x', undefined), /^kcd1\./)
  // A key served in place of the VM's (a compromised control plane) is refused.
  const other = kc.generateDeliveryKeypair()
  throwsKc(() => kc.sealForDelivery(other.publicKey, 'acme', 'sk-ant-x', fp), 'ClaimMismatch')
  // The pin is parsed strictly.
  throwsKc(() => kc.sealForDelivery(vm.publicKey, 'acme', 'x', fp.toLowerCase()), 'Malformed')
  throwsKc(() => kc.sealForDelivery(vm.publicKey, 'acme', 'x', fp.replaceAll('-', '')), 'Malformed')
  throwsKc(() => kc.deliveryKeyFingerprint(vm.privateKey), 'Malformed')
})

test('scrub, validateSlug, validateEmail', () => {
  const key = 'sk-ant-api03-' + 'x'.repeat(80) + 'AA'
  const out = kc.scrub(`calling with ${key} now`)
  assert.ok(!out.includes(key))
  assert.match(out, /\[REDACTED:anthropic\]/)
  assert.equal(kc.scrub('nothing to hide'), 'nothing to hide')
  const apiKey = kc.generateApiKey('obee').key
  assert.ok(!kc.scrub(`key=${apiKey}`).includes(apiKey))
  assert.equal(kc.validateSlug('acme-co'), undefined)
  for (const bad of ['ab', '-acme', 'acme-', 'Acme', 'a'.repeat(33), 'ac_me']) throwsKc(() => kc.validateSlug(bad), 'InvalidArgument')
  assert.equal(kc.validateEmail('a.b@example.co.uk'), undefined)
  for (const bad of ['a@b', 'a b@example.com', '"a"@example.com', 'a@example.com\n', '@example.com']) throwsKc(() => kc.validateEmail(bad), 'InvalidArgument')
})

test('pseudonyms: stable, keyed, per tenant', () => {
  const k = kc.Keyring.generate()
  const p = k.pseudonymize('203.0.113.7')
  assert.match(p, /^[0-9a-f]{64}$/)
  assert.equal(k.pseudonymize('203.0.113.7'), p)
  assert.notEqual(k.pseudonymize('203.0.113.8'), p)
  assert.notEqual(kc.Keyring.generate().pseudonymize('203.0.113.7'), p)
  assert.notEqual(k.pseudonymizeFor('acme', '203.0.113.7'), k.pseudonymizeFor('globex', '203.0.113.7'))
  assert.notEqual(k.pseudonymizeFor('acme', '203.0.113.7'), p)
})

test('legacy import: node:crypto-made blobs and files decrypt, sync and async', async () => {
  const blob = legacy.gcmBlob(2000)
  assert.equal(kc.decryptLegacyPbkdf2Gcm(blob, legacy.password, { iterations: 2000 }).toString(), 'legacy secret')
  assert.equal((await kc.decryptLegacyPbkdf2GcmAsync(blob, Buffer.from(legacy.password), { iterations: 2000 })).toString(), 'legacy secret')
  throwsKc(() => kc.decryptLegacyPbkdf2Gcm(blob, 'wrong', { iterations: 2000 }), 'DecryptFailed')
  throwsKc(() => kc.decryptLegacyPbkdf2Gcm(blob, legacy.password, { iterations: 2001 }), 'DecryptFailed')
  await rejectsKc(kc.decryptLegacyPbkdf2GcmAsync(blob, 'wrong', { iterations: 2000 }), 'DecryptFailed')
  await rejectsKc(kc.decryptLegacyPbkdf2GcmAsync(blob, legacy.password, { iterations: -1 }), 'InvalidArgument', RangeError)
  // The default is 100,000 iterations.
  const dflt = legacy.gcmBlob(100000)
  assert.equal(kc.decryptLegacyPbkdf2Gcm(dflt, legacy.password).toString(), 'legacy secret')
  const file = legacy.opensslFile(3000)
  assert.equal(kc.decryptOpensslEnc(file, legacy.password, 3000).toString(), 'legacy file')
  assert.equal((await kc.decryptOpensslEncAsync(file, legacy.password, 3000)).toString(), 'legacy file')
  throwsKc(() => kc.decryptOpensslEnc(file.subarray(0, 20), legacy.password, 3000), 'Malformed')
  // Migration: a legacy value re-sealed as kc1.
  const k = kc.Keyring.generate()
  const sealed = k.seal('tenant-1', kc.decryptLegacyPbkdf2Gcm(blob, legacy.password, { iterations: 2000 }), 'openrouter_key')
  assert.equal(k.openText('tenant-1', sealed, 'openrouter_key'), 'legacy secret')
})

test('binary envelopes, explicit secrets, key states, JWT secrets', () => {
  const k = kc.Keyring.generate()
  const bin = k.sealBinary('t', 'hello', 'c')
  assert.ok(Buffer.isBuffer(bin))
  assert.equal(bin.length, 17 + 5 + 16)
  assert.deepEqual(kc.inspectBinary(bin), { version: 1, kid: 1, plaintextLen: 5 })
  assert.equal(k.openBinary('t', bin, 'c').toString(), 'hello')
  // The binary form is the text form without "kc1." and base64url.
  assert.equal(k.openText('t', 'kc1.' + bin.toString('base64url'), 'c'), 'hello')
  const text = k.seal('t', 'x')
  assert.equal(k.openBinary('t', Buffer.from(text.slice(4), 'base64url')).toString(), 'x')
  throwsKc(() => k.openBinary('t', 'kc1.' + bin.toString('base64url'), 'c'), 'InvalidArgument', TypeError)
  // addKeyWithSecret: the same secret on two keyrings gives interoperable keys.
  const secret = crypto.randomBytes(32)
  const kid = k.addKeyWithSecret(secret)
  assert.equal(kid, 2)
  assert.equal(k.stateOf(2), 'decrypt-only')
  assert.equal(k.stateOf(1), 'active')
  k.promote(2)
  assert.equal(k.openText('t', kc.Keyring.fromSecret(secret, 2).seal('t', 'same')), 'same')
  k.retire(1)
  assert.equal(k.stateOf(1), 'retired')
  throwsKc(() => k.stateOf(7), 'UnknownKey')
  // jwtSecret verifies tokens signJwt made, with a stock HMAC.
  const js = k.jwtSecret('acme')
  assert.equal(js.kid, 2)
  assert.equal(js.secret.length, 32)
  const token = k.signJwt('acme', { sub: 'u' }, 60, NOW)
  const [h, p, sig] = token.split('.')
  assert.equal(crypto.createHmac('sha256', js.secret).update(`${h}.${p}`).digest('base64url'), sig)
})

test('deterministic delivery keys, raw TOTP, TOTP steps', () => {
  const ikm = crypto.randomBytes(32)
  const a = kc.deriveDeliveryKeypair(ikm)
  assert.deepEqual(kc.deriveDeliveryKeypair(ikm), a)
  assert.notDeepEqual(kc.deriveDeliveryKeypair(crypto.randomBytes(32)), a)
  const blob = kc.sealForDelivery(a.publicKey, 'vm-1', 'x')
  assert.equal(kc.openDelivery(kc.deriveDeliveryKeypair(ikm).privateKey, 'vm-1', blob).toString(), 'x')
  // RFC 6238 appendix B: SHA-1/SHA-256/SHA-512 8-digit codes at T = 59.
  const seed = (n) => Buffer.from('1234567890'.repeat(n).slice(0, n), 'ascii')
  assert.equal(kc.totpRawAt(seed(20), 59, 30, 8, 'SHA1'), '94287082')
  assert.equal(kc.totpRawAt(seed(32), 59, 30, 8, 'SHA256'), '46119246')
  assert.equal(kc.totpRawAt(seed(64), 59, 30, 8, 'SHA512'), '90693936')
  assert.equal(kc.totpRawAt(seed(20), 1111111109, 30, 8, 'SHA1'), '07081804')
  assert.equal(kc.totpRawAt(seed(20), 59), '287082')
  assert.equal(kc.totpStep(59), 1)
  assert.equal(kc.totpStep(NOW), Math.floor(NOW / 30))
})

test('options objects: each property is type-checked without echoing its value', () => {
  const blob = legacy.gcmBlob(1000)
  for (const [opts, cls] of [
    [{ iterations: 'sk-MARKER-opt' }, TypeError],
    [{ iterations: 1.5 }, RangeError],
    [{ saltLen: -1 }, RangeError],
    [{ ivLen: '12' }, TypeError],
  ]) {
    const e = throwsKc(() => kc.decryptLegacyPbkdf2Gcm(blob, legacy.password, opts), 'InvalidArgument', cls)
    assert.ok(!e.message.includes('sk-MARKER-opt'))
    assert.match(e.message, /options\./)
  }
  // Unknown properties are ignored; undefined/null properties mean the default.
  assert.equal(kc.decryptLegacyPbkdf2Gcm(blob, legacy.password, { iterations: 1000, extra: true, saltLen: undefined, ivLen: null }).toString(), 'legacy secret')
  const k = kc.Keyring.generate()
  const t = k.signJwt('acme', {}, 60, NOW)
  for (const opts of [{ issuer: 1, now: NOW }, { leeway: -5, now: NOW }, { now: NOW + 0.5 }]) {
    assert.throws(() => k.verifyJwt('acme', t, opts), (e) => e.code === 'KC_INVALID_ARGUMENT' && (e instanceof TypeError || e instanceof RangeError))
  }
})
