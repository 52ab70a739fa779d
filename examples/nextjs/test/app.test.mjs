// The app as a user runs it: `next build` (Turbopack, then webpack) on a machine with no
// KEYCUSTODY_KEYRING, `next start` on 127.0.0.1, and a headless Chromium page sealing a key in
// the browser (keycustody-wasm) that a Node route opens (keycustody). The API routes are
// checked too: the Node route, the Edge route (keycustody-wasm, opening what the native
// package sealed and the reverse), and the typed errors of a missing or wrong keyring.
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { Keyring, sealForDelivery, deliveryKeyFingerprint } from 'keycustody'
import { build, start, launchChromium, readmeKeyring } from './server.mjs'

// The app is served with the keyring the README's one command makes (run as written).
const KEYRING = readmeKeyring()
const keyring = Keyring.parse(KEYRING)
const LLM_KEY = 'sk-or-v1-0123456789abcdef0123456789abcdef'
// A keyring's text that is JSON but not a keyring, with a marker that must never be logged.
const WRONG_KEYRING = JSON.stringify({ version: 1, keys: [{ kid: 1, state: 'active', secret: 'DO-NOT-LOG-THIS-5f2c1e' }] })

async function json(res) {
  return { status: res.status, body: await res.json() }
}

// KC_NEXTJS_BUNDLERS=turbopack runs one (for local runs); make test runs both.
const BUNDLERS = (process.env.KC_NEXTJS_BUNDLERS ?? 'turbopack,webpack').split(',')
for (const bundler of BUNDLERS) {
  describe(`next build (${bundler}) + next start`, () => {
    let built
    let app
    let noKeyring
    let wrongKeyring
    let browser
    before(async () => {
      built = build(bundler)
      if (built.status !== 0) return
      app = await start(KEYRING)
      noKeyring = await start(undefined)
      wrongKeyring = await start(WRONG_KEYRING)
      browser = await launchChromium()
    })
    after(async () => {
      await browser?.close()
      await app?.stop()
      await noKeyring?.stop()
      await wrongKeyring?.stop()
    })

    test('next build succeeds without KEYCUSTODY_KEYRING', () => {
      assert.equal(built.status, 0, built.output)
      assert.doesNotMatch(built.output, /KC_[A-Z_]+/)
      const want = bundler === 'webpack' ? /webpack/i : /Turbopack/
      assert.match(built.output, want, 'the build names its bundler')
    })

    test('the page seals a key in Chromium for the VM; a Node route opens it', async () => {
      const { page, errors } = browser
      const { fingerprint } = (await json(await fetch(`${app.origin}/api/tenants/acme/delivery-key`))).body
      assert.match(fingerprint, /^kcfp1\./)
      await page.goto(`${app.origin}/`)
      await page.fill('input[name=key]', LLM_KEY)
      await page.fill('input[name=fingerprint]', fingerprint)
      await page.click('button[name=deliver]')
      await page.waitForFunction(() => document.querySelector('[data-testid=status]')?.textContent !== 'idle', null, { timeout: 30_000 })
      assert.equal(await page.textContent('[data-testid=status]'), 'delivered')
      const got = await json(await fetch(`${app.origin}/api/tenants/acme/openrouter-key`))
      assert.deepEqual(got, { status: 200, body: { configured: true, hint: 'sk-or-v1-…', rewrap: false } })
      assert.deepEqual(errors, [])
    })

    test('the page refuses a VM key whose fingerprint is not the pinned one (KC_CLAIM_MISMATCH)', async () => {
      const { page } = browser
      const other = (await json(await fetch(`${app.origin}/api/tenants/globex/delivery-key`))).body.fingerprint
      await page.goto(`${app.origin}/`)
      await page.fill('input[name=key]', LLM_KEY)
      await page.fill('input[name=fingerprint]', other)
      await page.click('button[name=deliver]')
      await page.waitForFunction(() => document.querySelector('[data-testid=status]')?.textContent !== 'idle', null, { timeout: 30_000 })
      assert.equal(await page.textContent('[data-testid=status]'), 'error: KC_CLAIM_MISMATCH')
    })

    test('the full keycustody-wasm package loads in the page (init() fetches its .wasm) and reads an envelope header', async () => {
      const { page, errors } = browser
      await page.goto(`${app.origin}/`)
      await page.fill('input[name=envelope]', keyring.seal('acme', 'x', 'openrouter_key'))
      await page.click('button[name=inspect]')
      await page.waitForFunction(() => document.querySelector('[data-testid=inspect-status]')?.textContent !== 'idle', null, { timeout: 30_000 })
      assert.equal(await page.textContent('[data-testid=inspect-status]'), `kc1, kid ${keyring.primaryKid}`)
      await page.fill('input[name=envelope]', 'kc1.not-an-envelope')
      await page.click('button[name=inspect]')
      await page.waitForFunction(() => document.querySelector('[data-testid=inspect-status]')?.textContent?.startsWith('error'), null, { timeout: 30_000 })
      assert.equal(await page.textContent('[data-testid=inspect-status]'), 'error: KC_MALFORMED')
      assert.deepEqual(errors, [])
    })

    test('a blob sealed for one tenant does not open on another tenant\'s route', async () => {
      const { publicKey } = (await json(await fetch(`${app.origin}/api/tenants/acme/delivery-key`))).body
      assert.equal(deliveryKeyFingerprint(publicKey), (await json(await fetch(`${app.origin}/api/tenants/acme/delivery-key`))).body.fingerprint)
      const blob = sealForDelivery(publicKey, 'acme', LLM_KEY)
      const got = await json(await fetch(`${app.origin}/api/tenants/globex/delivery`, { method: 'POST', body: blob }))
      assert.equal(got.status, 400)
      assert.equal(got.body.error, 'KC_DECRYPT_FAILED')
    })

    test('the Node route seals and opens per tenant', async () => {
      const put = await json(await fetch(`${app.origin}/api/tenants/initech/openrouter-key`, { method: 'PUT', body: JSON.stringify({ key: LLM_KEY }) }))
      assert.deepEqual(put, { status: 200, body: { stored: true, kid: keyring.primaryKid } })
      const got = await json(await fetch(`${app.origin}/api/tenants/initech/openrouter-key`))
      assert.equal(got.body.hint, 'sk-or-v1-…')
      const none = await fetch(`${app.origin}/api/tenants/hooli/openrouter-key`)
      assert.equal(none.status, 404)
    })

    test('the Edge route runs on the Edge runtime with keycustody-wasm, interoperating with keycustody', async () => {
      const url = `${app.origin}/api/edge/tenants/acme/openrouter-key`
      const sealed = await json(await fetch(url, { method: 'PUT', body: JSON.stringify({ key: LLM_KEY }) }))
      assert.equal(sealed.status, 200, JSON.stringify(sealed.body))
      assert.equal(sealed.body.runtime, 'edge')
      assert.equal(keyring.openText('acme', sealed.body.sealed, 'openrouter_key'), LLM_KEY)
      const fromNode = keyring.seal('acme', LLM_KEY, 'openrouter_key')
      assert.deepEqual(await json(await fetch(url, { method: 'POST', body: fromNode })), { status: 200, body: { hint: 'sk-or-v1-…', runtime: 'edge' } })
      const elsewhere = await json(await fetch(`${app.origin}/api/edge/tenants/globex/openrouter-key`, { method: 'POST', body: fromNode }))
      assert.deepEqual(elsewhere, { status: 400, body: { error: 'KC_DECRYPT_FAILED' } })
    })

    test('no keyring: the page still serves; each route answers 500 KC_MISSING_ENV_VAR at first use', async () => {
      assert.equal((await fetch(`${noKeyring.origin}/`)).status, 200)
      for (const [method, route] of [['GET', '/api/tenants/acme/openrouter-key'], ['PUT', '/api/tenants/acme/openrouter-key'], ['GET', '/api/tenants/acme/delivery-key'], ['PUT', '/api/edge/tenants/acme/openrouter-key']]) {
        const got = await json(await fetch(`${noKeyring.origin}${route}`, { method, body: method === 'PUT' ? JSON.stringify({ key: LLM_KEY }) : undefined }))
        assert.equal(got.status, 500, `${method} ${route}`)
        assert.equal(got.body.error, 'KC_MISSING_ENV_VAR', `${method} ${route}`)
        assert.equal(got.body.envVar, 'KEYCUSTODY_KEYRING')
      }
      const log = noKeyring.log()
      assert.match(log, /keycustody: loading the keyring: KC_MISSING_ENV_VAR \(KEYCUSTODY_KEYRING\)/)
      assert.doesNotMatch(log, /^\s+at /m, 'no stack trace in the server log')
      assert.doesNotMatch(log, new RegExp(LLM_KEY.slice(10)), 'no request secret in the server log')
    })

    test('a wrong keyring: 500 KC_MALFORMED at first use, the keyring text never logged', async () => {
      for (const route of ['/api/tenants/acme/openrouter-key', '/api/edge/tenants/acme/openrouter-key']) {
        const got = await json(await fetch(`${wrongKeyring.origin}${route}`, { method: 'PUT', body: JSON.stringify({ key: LLM_KEY }) }))
        assert.equal(got.status, 500, route)
        assert.equal(got.body.error, 'KC_MALFORMED', route)
        assert.doesNotMatch(JSON.stringify(got.body), /DO-NOT-LOG/)
      }
      const log = wrongKeyring.log()
      assert.match(log, /keycustody: loading the keyring: KC_MALFORMED/)
      assert.doesNotMatch(log, /DO-NOT-LOG/)
      assert.doesNotMatch(log, /^\s+at /m, 'no stack trace in the server log')
    })
  })
}
