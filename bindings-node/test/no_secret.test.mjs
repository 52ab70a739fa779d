// No secret in any output (assurance, ASSURANCE.md §5): secrets carrying a marker go through
// every kind of failure; the marker (raw, hex or base64) must not appear in any error's message,
// String(), util.inspect() or JSON, nor in util.inspect() of the objects that hold secrets.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import util from 'node:util'
import { kc } from './helpers.mjs'

const MARKER = 'ZQXMARKERQXZ'
const root = Buffer.from(`root-${MARKER}-0123456789abcdef-${MARKER}`)
const needles = [MARKER, Buffer.from(MARKER).toString('hex'), root.toString('base64url'), root.toString('hex')]
for (let pad = 0; pad < 3; pad++) {
  const enc = Buffer.concat([Buffer.alloc(pad, 46), Buffer.from(MARKER)]).toString('base64url')
  needles.push(enc.slice(Math.ceil(pad / 3) * 4, enc.length - 4))
}

function assertClean(what, s) {
  for (const n of needles) assert.ok(!String(s).includes(n), `${what} leaks ${n}: ${s}`)
}

let failures = 0
function fails(what, fn) {
  let err
  try {
    fn()
  } catch (e) {
    err = e
  }
  assert.ok(err, `${what}: expected a throw`)
  failures++
  assertClean(`${what} message`, err.message)
  assertClean(`${what} String`, String(err))
  assertClean(`${what} inspect`, util.inspect(err, { depth: 5, showHidden: true }))
  assertClean(`${what} JSON`, JSON.stringify(err))
  assertClean(`${what} stack`, err.stack)
}

test('no marked secret appears in any error or inspect output', () => {
  const text = JSON.stringify({ version: 1, primary: 1, keys: [{ kid: 1, state: 'active', secret: root.toString('base64url') }] })
  const kr = kc.Keyring.parse(text)
  assertClean('inspect(keyring)', util.inspect(kr, { showHidden: true, depth: 5 }))
  const pt = `sk-ant-${MARKER}-value`
  const env = kr.seal('t1', pt, 'c')
  assert.equal(kr.openText('t1', env, 'c'), pt)

  fails('parse primary', () => kc.Keyring.parse(text.replace('"primary":1', '"primary":7')))
  fails('parse secret', () => kc.Keyring.parse(text.replace(root.toString('base64url'), `${MARKER}!`)))
  fails('parse json', () => kc.Keyring.parse(`${text}${MARKER}`))
  fails('fromSecret short', () => kc.Keyring.fromSecret(MARKER))
  fails('open wrong owner', () => kr.open('t2', env, 'c'))
  fails('open wrong context', () => kr.open('t1', env, 'x'))
  fails('open garbage', () => kr.open('t1', `kc1.${MARKER}`))
  fails('inspect garbage', () => kc.inspect(`kc1.${MARKER}`))
  fails('rewrap wrong owner', () => kr.rewrap('t2', env, 'c'))
  fails('seal no owner', () => kr.seal('', pt))
  fails('parseApiKey', () => kc.parseApiKey(`kc_${MARKER}${'x'.repeat(24)}`))
  fails('verifyApiKey hash', () => kc.verifyApiKey(`kc_${MARKER}`, MARKER))
  fails('stripe', () => kc.verifyStripeSignature('{}', `t=1,v1=${'0'.repeat(64)}`, `whsec_${MARKER}`, 300, 1))
  fails('standard', () =>
    kc.verifyStandardWebhook(
      '{}',
      { 'webhook-id': 'msg_1', 'webhook-timestamp': '1', 'webhook-signature': `v1,${Buffer.alloc(32).toString('base64')}` },
      `whsec_${Buffer.from(MARKER).toString('base64')}`,
      300,
      1,
    ),
  )
  fails('standard bad secret', () =>
    kc.verifyStandardWebhook('{}', { 'webhook-id': 'msg_1', 'webhook-timestamp': '1', 'webhook-signature': 'v1,AAAA' }, `whsec_${MARKER}!`, 300, 1),
  )
  fails('standard header value', () =>
    kc.verifyStandardWebhook('{}', { 'webhook-id': 'msg_1', 'webhook-timestamp': MARKER, 'webhook-signature': MARKER }, 'whsec_AAAA', 300, 1),
  )
  fails('jwt', () => kr.verifyJwt('t1', `${MARKER}.${MARKER}.${MARKER}`))
  fails('openDelivery', () => kc.openDelivery(`kcsk1.${MARKER}`, 't1', `kcd1.${MARKER}`))
  fails('legacy', () => kc.decryptLegacyPbkdf2Gcm(Buffer.alloc(60, 1).toString('base64'), MARKER, { iterations: 1 }))
  fails('openssl', () => kc.decryptOpensslEnc(Buffer.concat([Buffer.from('Salted__'), Buffer.alloc(24, 7)]), MARKER, 1))
  assert.ok(failures >= 19)
})
