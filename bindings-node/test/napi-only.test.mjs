// Behaviour of the napi package that differs from keycustody-wasm where the shared suite
// (tests/js) asserts only what both do. Each difference is named; the lead may decide to align.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { kc, throwsKc } from './helpers.mjs'
import { legacyGcmBlob, LEGACY_PASSWORD } from '../../tests/js/suite/platform.mjs'

const NOW = 1700000000
const MARKER = 'sk-MARKER-do-not-echo-7f3a'

test('an exception thrown by the caller\'s own header mapping propagates as is', () => {
  const secret = kc.generateStandardWebhookSecret()
  const body = Buffer.from('{"type":"user.created"}')
  const sig = kc.signStandardWebhook(body, 'msg_1', NOW, secret)
  const plain = { 'webhook-id': 'msg_1', 'webhook-timestamp': String(NOW), 'webhook-signature': sig }
  const boom = () => {
    throw new Error('boom')
  }
  for (const h of [{ get entries() { return boom() } }, { entries: boom }, new Proxy({}, { ownKeys: boom }), { ...plain, get 'webhook-id'() { return boom() } }]) {
    assert.throws(() => kc.verifyStandardWebhook(body, h, secret, 300, NOW), /^Error: boom$/)
  }
  assert.equal(kc.verifyStandardWebhook(body, plain, secret, 300, NOW), NOW)
  // The argument detail is the bare name (wasm: a sentence starting with it).
  assert.equal(throwsKc(() => kc.verifyStandardWebhook(body, 42, secret, 300, NOW), 'InvalidArgument', TypeError).argument, 'headers')
  assert.equal(throwsKc(() => kc.Keyring.generate().seal(42, 'x'), 'InvalidArgument', TypeError).argument, 'owner')
})

test('options objects: a Buffer is not an options object; messages name options.<property>', async () => {
  const k = kc.Keyring.generate()
  const t = k.signJwt('acme', {}, 60, NOW)
  const e = throwsKc(() => k.verifyJwt('acme', t, Buffer.from(MARKER)), 'InvalidArgument', TypeError)
  assert.ok(!e.message.includes(MARKER))
  const blob = await legacyGcmBlob(1000)
  throwsKc(() => kc.decryptLegacyPbkdf2Gcm(blob, LEGACY_PASSWORD, Buffer.from(MARKER)), 'InvalidArgument', TypeError)
  for (const opts of [{ iterations: 'x' }, { iterations: 1.5 }, { saltLen: -1 }, { ivLen: '12' }]) {
    try {
      kc.decryptLegacyPbkdf2Gcm(blob, LEGACY_PASSWORD, opts)
      assert.fail('accepted')
    } catch (err) {
      assert.match(err.message, /options\./)
    }
  }
})

test('raw-key arguments take bytes only; decryptOpensslEnc data takes a string too', () => {
  throwsKc(() => kc.totpRawAt('12345678901234567890', 59), 'InvalidArgument', TypeError)
  throwsKc(() => kc.deriveDeliveryKeypair('k'.repeat(32)), 'InvalidArgument', TypeError)
  throwsKc(() => kc.decryptOpensslEnc('Salted__' + 'x'.repeat(24), 'pw', 1000), 'DecryptFailed')
})

test('values that are not header mappings: an ArrayBuffer, a DataView, a String object read as objects', () => {
  // keycustody-wasm refuses them as InvalidArgument (bindings-wasm/test/wasm-only.test.mjs).
  for (const h of [new ArrayBuffer(2), new DataView(new ArrayBuffer(2)), Object('abc')]) {
    throwsKc(() => kc.verifyStandardWebhook('{}', h, 'whsec_AAAA', 300, NOW), 'Malformed')
  }
})
