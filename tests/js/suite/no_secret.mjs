// No secret in any output (assurance, ASSURANCE.md §5; formerly the no_secret tests of both
// packages): secrets carrying a marker go through every kind of failure; the marker (raw, hex or
// base64) must not appear in any error's message, String(), inspect output (util.inspect in
// Node), stack or JSON, nor in the inspect output of the objects that hold secrets.
import { assert, utf8, toHex, b64, b64url, concat, filled } from '../harness.mjs'

const MARKER = 'ZQXMARKERQXZ'

export default function register(test, ctx) {
  const { kc, host } = ctx
  const root = utf8(`root-${MARKER}-0123456789abcdef-${MARKER}`)
  const needles = [MARKER, toHex(utf8(MARKER)), b64url(root), toHex(root)]
  for (let pad = 0; pad < 3; pad++) {
    const enc = b64url(concat(filled(pad, 46), utf8(MARKER)))
    needles.push(enc.slice(Math.ceil(pad / 3) * 4, enc.length - 4))
  }
  const assertClean = (what, s) => {
    for (const n of needles) assert.ok(!String(s).includes(n), `${what} leaks ${n}: ${s}`)
  }

  test('no marked secret appears in any error or inspect output', () => {
    let failures = 0
    const fails = (what, fn) => {
      const err = assert.throws(fn, undefined, `${what}: expected a throw`)
      failures++
      assertClean(`${what} message`, err.message)
      assertClean(`${what} String`, String(err))
      assertClean(`${what} inspect`, host.inspect(err))
      assertClean(`${what} JSON`, JSON.stringify(err))
      assertClean(`${what} stack`, err.stack)
    }
    const text = JSON.stringify({ version: 1, primary: 1, keys: [{ kid: 1, state: 'active', secret: b64url(root) }] })
    const kr = kc.Keyring.parse(text)
    assertClean('inspect(keyring)', host.inspect(kr))
    assertClean('String(keyring)', String(kr))
    assertClean('JSON(keyring)', JSON.stringify(kr))
    const pt = `sk-ant-${MARKER}-value`
    const env = kr.seal('t1', pt, 'c')
    assert.equal(kr.openText('t1', env, 'c'), pt)

    fails('parse primary', () => kc.Keyring.parse(text.replace('"primary":1', '"primary":7')))
    fails('parse secret', () => kc.Keyring.parse(text.replace(b64url(root), `${MARKER}!`)))
    fails('parse json', () => kc.Keyring.parse(`${text}${MARKER}`))
    fails('fromSecret short', () => kc.Keyring.fromSecret(MARKER))
    fails('fromSecret short, kid', () => kc.Keyring.fromSecret(MARKER, 1))
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
        { 'webhook-id': 'msg_1', 'webhook-timestamp': '1', 'webhook-signature': `v1,${b64(new Uint8Array(32))}` },
        `whsec_${b64(utf8(MARKER))}`,
        300,
        1,
      ),
    )
    fails('standard bad secret', () =>
      kc.verifyStandardWebhook('{}', { 'webhook-id': 'msg_1', 'webhook-timestamp': '1', 'webhook-signature': 'v1,AAAA' }, `whsec_${MARKER}!`, 300, 1),
    )
    fails('standard header values', () =>
      kc.verifyStandardWebhook('{}', { 'webhook-id': 'msg_1', 'webhook-timestamp': MARKER, 'webhook-signature': MARKER }, 'whsec_AAAA', 300, 1),
    )
    fails('jwt', () => kr.verifyJwt('t1', `${MARKER}.${MARKER}.${MARKER}`))
    fails('openDelivery', () => kc.openDelivery(`kcsk1.${MARKER}`, 't1', `kcd1.${MARKER}`))
    fails('legacy', () => kc.decryptLegacyPbkdf2Gcm(b64(filled(60, 1)), MARKER, { iterations: 1 }))
    fails('openssl', () => kc.decryptOpensslEnc(concat(utf8('Salted__'), filled(24, 7)), MARKER, 1))
    assert.ok(failures >= 21)
  })
}
