// The README's Node quickstart is examples/nextjs-route.mjs verbatim, and it runs, also as
// written in a fresh project.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { spawnSync } from 'node:child_process'
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

// The quickstart as a new user runs it: in an empty directory, with no KEYCUSTODY_KEYRING in
// the environment, the README's ```sh block (its `npm install keycustody` installs the tarball
// of the package built here, not the registry's), then the route handler, called as Next.js
// calls it, in the same shell.
test('the Node quickstart runs as written in a fresh project (keyring made by its one command)', () => {
  const readme = fs.readFileSync(path.join(repoRoot, 'README.md'), 'utf8')
  const section = readme.slice(readme.indexOf('### Quickstart: a Next.js route handler'), readme.indexOf('<!-- END node -->'))
  const sh = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1])[0]
  const js = [...section.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1])[0]
  assert.ok(sh && js, 'the quickstart has a sh block and a js block')
  assert.match(sh, /^npm install keycustody$/m)
  assert.match(sh, /^export KEYCUSTODY_KEYRING=/m, 'the quickstart shows how to make KEYCUSTODY_KEYRING')
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kc-readme-node-'))
  try {
    const pack = spawnSync('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: pkgDir, encoding: 'utf8' })
    assert.equal(pack.status, 0, pack.stderr)
    const tarball = path.join(dir, pack.stdout.trim().split('\n').pop())
    const project = path.join(dir, 'app')
    fs.mkdirSync(project)
    fs.writeFileSync(path.join(project, 'package.json'), '{"name":"readme-app","private":true,"type":"module"}\n')
    fs.writeFileSync(path.join(project, 'route.mjs'), js)
    fs.writeFileSync(path.join(project, 'next.mjs'), NEXT_DRIVER)
    const script = sh.replace(/^npm install keycustody$/m, `npm install --no-audit --no-fund --offline --silent ${JSON.stringify(tarball)}`)
    const env = { PATH: process.env.PATH, HOME: dir } // a fresh environment: no KEYCUSTODY_KEYRING
    // Without the keyring command, the first error names the variable.
    const bare = spawnSync('bash', ['-euo', 'pipefail', '-c', `${script.replace(/^export KEYCUSTODY_KEYRING=.*$/m, '')}\nnode next.mjs`], { cwd: project, env, encoding: 'utf8' })
    assert.notEqual(bare.status, 0)
    assert.match(bare.stderr, /environment variable KEYCUSTODY_KEYRING is not set/)
    const r = spawnSync('bash', ['-euo', 'pipefail', '-c', `${script}\nnode next.mjs`], { cwd: project, env, encoding: 'utf8' })
    assert.equal(r.status, 0, r.stdout + r.stderr)
    assert.deepEqual(JSON.parse(r.stdout.trim().split('\n').pop()), {
      put: [200, { stored: true, kid: 1 }],
      get: [200, { configured: true, hint: 'sk-or-v1-…', rewrap: false }],
      other: 404,
      swapped: [500, { error: 'KC_DECRYPT_FAILED' }],
      storedIsKc1: true,
      installed: fs.realpathSync(path.join(project, 'node_modules', 'keycustody')),
    })
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

// Calls the route module the way Next.js does and prints what came back, as one JSON line.
const NEXT_DRIVER = `import { realpathSync } from 'node:fs'
import { createRequire } from 'node:module'
const route = await import('./route.mjs')
const ctx = (tenant) => ({ params: Promise.resolve({ tenant }) })
const put = await route.PUT(new Request('http://localhost/api', { method: 'PUT', body: JSON.stringify({ key: 'sk-or-v1-acme-secret' }) }), ctx('acme'))
const get = await route.GET(new Request('http://localhost/api'), ctx('acme'))
const other = await route.GET(new Request('http://localhost/api'), ctx('globex'))
const stored = route.db.get('acme/openrouter_key')
route.db.set('globex/openrouter_key', stored)
const swapped = await route.GET(new Request('http://localhost/api'), ctx('globex'))
const pkg = createRequire(import.meta.url).resolve('keycustody/package.json')
console.log(JSON.stringify({
  put: [put.status, await put.json()], get: [get.status, await get.json()], other: other.status,
  swapped: [swapped.status, await swapped.json()], storedIsKc1: /^kc1\\./.test(stored) && !stored.includes('acme-secret'),
  installed: realpathSync(pkg.replace(/\\/package\\.json$/, '')),
}))
`
