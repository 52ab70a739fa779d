// The README's Node quickstart is examples/nextjs-route.mjs verbatim, and it runs.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { kc, pkgDir, repoRoot } from './helpers.mjs'

const examplePath = path.join(pkgDir, 'examples', 'nextjs-route.mjs')
const webhookPath = path.join(pkgDir, 'examples', 'stripe-webhook.mjs')
const standardPath = path.join(pkgDir, 'examples', 'standard-webhook.mjs')

test('README.md shows the example files verbatim', () => {
  const readme = fs.readFileSync(path.join(repoRoot, 'README.md'), 'utf8')
  const section = readme.slice(readme.indexOf('<!-- BEGIN node -->'), readme.indexOf('<!-- END node -->'))
  assert.ok(section.length > 0, 'README has no node section')
  for (const p of [examplePath, webhookPath, standardPath]) {
    const code = fs.readFileSync(p, 'utf8').trim()
    assert.ok(section.includes('```js\n' + code + '\n```'), `README node section differs from ${path.basename(p)}`)
  }
})

test('the Next.js route handler seals, opens and refuses a swapped value', async () => {
  const keyring = kc.Keyring.generate()
  process.env.KEYCUSTODY_KEYRING = keyring.export()
  const route = await import(examplePath)
  assert.equal(route.runtime, 'nodejs')
  const ctx = (tenant) => ({ params: Promise.resolve({ tenant }) })
  const put = (tenant, key) =>
    route.PUT(new Request('http://localhost/api', { method: 'PUT', body: JSON.stringify({ key }) }), ctx(tenant))

  let res = await put('acme', 'sk-or-v1-acme-secret')
  assert.equal(res.status, 200)
  assert.deepEqual(await res.json(), { stored: true, kid: 1 })
  const stored = route.db.get('acme/openrouter_key')
  assert.match(stored, /^kc1\./)
  assert.ok(!stored.includes('acme-secret'))
  assert.equal(keyring.openText('acme', stored, 'openrouter_key'), 'sk-or-v1-acme-secret')

  res = await route.GET(new Request('http://localhost/api'), ctx('acme'))
  assert.equal(res.status, 200)
  const body = await res.json()
  assert.deepEqual(body, { configured: true, hint: 'sk-or-v1-…', rewrap: false })
  assert.ok(!JSON.stringify(body).includes('acme-secret'))

  res = await route.GET(new Request('http://localhost/api'), ctx('globex'))
  assert.equal(res.status, 404)

  // Copy acme's value into globex's row: it does not open as globex's.
  route.db.set('globex/openrouter_key', stored)
  res = await route.GET(new Request('http://localhost/api'), ctx('globex'))
  assert.equal(res.status, 500)
  assert.deepEqual(await res.json(), { error: 'KC_DECRYPT_FAILED' })
})

test('the Stripe webhook route handler verifies, parses and deduplicates', async () => {
  process.env.STRIPE_WEBHOOK_SECRET = 'whsec_readme_test'
  const route = await import(webhookPath)
  const body = JSON.stringify({ id: 'evt_readme_1', type: 'invoice.paid' })
  // verifyStripeSignature uses the clock here, so the header is signed at the current time.
  const header = kc.signStripePayload(body, 'whsec_readme_test', Math.floor(Date.now() / 1000))
  const post = (b, h) =>
    route.POST(new Request('http://localhost/api/webhooks/stripe', { method: 'POST', body: b, headers: h === undefined ? {} : { 'stripe-signature': h } }))
  let res = await post(body, header)
  assert.equal(res.status, 200)
  assert.deepEqual(await res.json(), { received: true })
  res = await post(body, header) // Stripe retried: accepted, handled once
  assert.equal(res.status, 200)
  res = await post(body.replace('invoice.paid', 'invoice.void'), header)
  assert.equal(res.status, 400)
  assert.deepEqual(await res.json(), { error: 'KC_SIGNATURE_INVALID' })
  res = await post(body, undefined)
  assert.equal(res.status, 400)
  assert.deepEqual(await res.json(), { error: 'KC_MALFORMED' })
})

test('the Standard Webhooks route handler takes request.headers as they come', async () => {
  const secret = kc.generateStandardWebhookSecret()
  process.env.WEBHOOK_SECRET = secret
  const route = await import(standardPath)
  const body = JSON.stringify({ type: 'user.created' })
  const now = Math.floor(Date.now() / 1000) // the route uses the clock
  const sig = kc.signStandardWebhook(body, 'msg_readme_1', now, secret)
  const post = (headers) => route.POST(new Request('http://localhost/api/webhooks/standard', { method: 'POST', body, headers }))
  const headers = { 'Webhook-Id': 'msg_readme_1', 'Webhook-Timestamp': String(now), 'Webhook-Signature': sig }
  let res = await post(headers)
  assert.equal(res.status, 204)
  res = await post(headers) // redelivered: accepted, handled once
  assert.equal(res.status, 204)
  res = await post({ ...headers, 'Webhook-Id': 'msg_readme_2' })
  assert.equal(res.status, 400)
  assert.deepEqual(await res.json(), { error: 'KC_SIGNATURE_INVALID' })
  res = await post({ 'Webhook-Id': 'msg_readme_1', 'Webhook-Signature': sig })
  assert.equal(res.status, 400)
  assert.deepEqual(await res.json(), { error: 'KC_MALFORMED', malformed: 'WebhookHeaderMissing' })
})
