// The README's Node section shows the example files verbatim, and they run. Its Next.js
// quickstart is examples/nextjs/README.md verbatim (that app is built, served and driven in
// Chromium by make test-nextjs, which also checks the README's blocks against its files).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { kc, pkgDir, repoRoot } from './helpers.mjs'

const webhookPath = path.join(pkgDir, 'examples', 'stripe-webhook.mjs')
const standardPath = path.join(pkgDir, 'examples', 'standard-webhook.mjs')

test('README.md shows the example files verbatim', () => {
  const readme = fs.readFileSync(path.join(repoRoot, 'README.md'), 'utf8')
  const section = readme.slice(readme.indexOf('<!-- BEGIN node -->'), readme.indexOf('<!-- END node -->'))
  assert.ok(section.length > 0, 'README has no node section')
  const nextjs = fs.readFileSync(path.join(repoRoot, 'examples', 'nextjs', 'README.md'), 'utf8').trim()
  assert.ok(section.includes(nextjs), 'README node section does not contain examples/nextjs/README.md verbatim')
  for (const p of [webhookPath, standardPath]) {
    const code = fs.readFileSync(p, 'utf8').trim()
    assert.ok(section.includes('```js\n' + code + '\n```'), `README node section differs from ${path.basename(p)}`)
  }
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
