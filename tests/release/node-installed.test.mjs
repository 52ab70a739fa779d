// The npm tarballs of `make dist` as a user gets them: KC_DIST_PROJECT is a fresh npm project into
// which scripts/test-dist.sh installed the packed tarballs (no registry for our packages).
// KC_DIST_TARGET=napi (keycustody) | wasm-node (keycustody-wasm). Runs the shared JS suite
// (tests/js; KC_JS_ONLY narrows it, e.g. under qemu) and the README blocks of that package that run
// outside a framework (napi: the "create the keyring" command, rotation, errors, async, the two
// webhook routes; wasm: its Node block) against the installed copy, never the source tree.
// What these spawn runs `node` from PATH (under qemu, scripts/test-dist.sh puts the arm64 one there).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'
import { makeContext, collect } from '../js/harness.mjs'
import { loadModules } from '../js/suite.mjs'
import { manifest, nodeHost, REPO } from '../js/node-host.mjs'

const project = process.env.KC_DIST_PROJECT
const target = process.env.KC_DIST_TARGET
if (!project || !target) throw new Error('KC_DIST_PROJECT and KC_DIST_TARGET (napi | wasm-node) must be set')
const pkgName = { napi: 'keycustody', 'wasm-node': 'keycustody-wasm' }[target]
if (!pkgName) throw new Error(`unknown KC_DIST_TARGET ${target}`)
const projectRequire = createRequire(path.join(project, 'package.json'))
const installedDir = fs.realpathSync(path.join(project, 'node_modules', pkgName))
const kc = target === 'napi' ? projectRequire('keycustody') : await import(pathToFileURL(projectRequire.resolve('keycustody-wasm')).href)

test(`[dist ${target}] ${pkgName} is the installed tarball, not the source tree`, () => {
  const resolved = fs.realpathSync(projectRequire.resolve(pkgName))
  assert.ok(resolved.startsWith(installedDir + path.sep), resolved)
  assert.ok(!resolved.startsWith(path.join(REPO, 'bindings-')), resolved)
  const version = JSON.parse(fs.readFileSync(path.join(installedDir, 'package.json'), 'utf8')).version
  assert.equal(version, process.env.KC_DIST_VERSION)
})

const ctx = makeContext({ kc, target, runtime: target === 'napi' ? 'node' : 'wasm', manifest, host: nodeHost() })
const only = process.env.KC_JS_ONLY ? new RegExp(process.env.KC_JS_ONLY) : null
for (const t of await collect(await loadModules(), ctx)) {
  if (only && !only.test(t.name)) continue
  test(`[dist ${target}] ${t.name}`, { skip: t.skip }, t.fn)
}

const readme = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8')
const blocks = (section, lang) => [...section.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1])

// Files written into the fresh project, so that their `import ... from 'keycustody'` resolves to
// its node_modules (the installed tarball), as in a user's app.
const writeInProject = (name, text) => {
  const file = path.join(project, `${name}-${process.pid}.mjs`)
  fs.writeFileSync(file, text)
  return file
}

if (target === 'napi') {
  const section = readme.split('<!-- BEGIN node -->')[1].split('<!-- END node -->')[0]
  const js = blocks(section, 'js')
  const routes = js.filter((b) => /^export async function POST/m.test(b))
  const fragments = js.filter((b) => !routes.includes(b))

  // The README's plain-JS blocks, outside Next.js: its "create the keyring" command (the sh
  // block's `export KEYCUSTODY_KEYRING=...` line, run by bash in the project, so its `node -e
  // "require('keycustody')..."` loads the installed package), then the fragments (rotation,
  // errors, async) as one module with the names they use, each block in its own scope, with checks
  // after the blocks that say what they did. The Next.js app itself (the quickstart's TypeScript)
  // is built from the packed packages by `make test-nextjs`.
  test('[dist napi] the README Node blocks run from the installed package: create the keyring, rotation, errors, async', () => {
    const sh = blocks(section, 'sh').find((b) => /^export KEYCUSTODY_KEYRING=/m.test(b))
    assert.ok(sh, 'the Node section has no sh block that creates KEYCUSTODY_KEYRING')
    assert.match(sh, /^npm install keycustody keycustody-wasm$/m) // done: the tarballs are installed
    const createKeyring = sh.match(/^export KEYCUSTODY_KEYRING=.*$/m)[0]
    assert.equal(fragments.length, 3, 'rotation, errors and async blocks')
    const [rotation, errors, async] = fragments
    assert.match(rotation, /keyring\.retire\(1\)/)
    assert.match(errors, /KC_DECRYPT_FAILED/)
    assert.match(async, /sealAsync/)
    const file = writeInProject(
      'readme-node',
      `import assert from 'node:assert/strict'
import { Keyring } from 'keycustody'
const keyring = Keyring.fromEnv()
assert.equal(keyring.primaryKid, 1)
const tenant = 'acme'
let sealed = keyring.seal(tenant, 'sk-or-v1-acme', 'openrouter_key')
const before = sealed
const bigBuffer = Buffer.alloc(3 << 20, 7)
{
${rotation}
assert.equal(keyring.primaryKid, kid)
}
assert.notEqual(sealed, before)
assert.equal(keyring.needsRewrap(sealed), false)
assert.equal(keyring.openText(tenant, sealed, 'openrouter_key'), 'sk-or-v1-acme')
assert.throws(() => keyring.open(tenant, before, 'openrouter_key'), (e) => e.code === 'KC_KEY_RETIRED' && e.kid === 1)
{
${errors}
}
{
${async}
assert.equal(Buffer.compare(plain, bigBuffer), 0)
}
console.log('readme node blocks: ok')
`,
    )
    try {
      const run = (script) =>
        spawnSync('bash', ['-euo', 'pipefail', '-c', script], { cwd: project, encoding: 'utf8', env: { PATH: process.env.PATH, HOME: project } })
      let r = run(`node ${JSON.stringify(file)}`) // without the command: the keyring is missing
      assert.notEqual(r.status, 0)
      assert.match(r.stderr, /KC_MISSING_ENV_VAR/)
      r = run(`${createKeyring}\nnode ${JSON.stringify(file)}`)
      assert.equal(r.status, 0, r.stdout + r.stderr)
      assert.equal(r.stdout.trim(), 'readme node blocks: ok')
    } finally {
      fs.rmSync(file, { force: true })
    }
  })

  // The two webhook route blocks, as files of the project, imported and called with signed requests.
  test('[dist napi] the README Stripe and Standard Webhooks routes verify, deduplicate and refuse, from the installed package', async () => {
    assert.equal(routes.length, 2)
    const [stripe, standard] = [routes.find((b) => b.includes('verifyStripeSignature')), routes.find((b) => b.includes('verifyStandardWebhook'))]
    assert.ok(stripe && standard)
    const files = [writeInProject('readme-stripe', stripe), writeInProject('readme-standard', standard)]
    try {
      const now = () => Math.floor(Date.now() / 1000) // the routes use the clock
      process.env.STRIPE_WEBHOOK_SECRET = 'whsec_dist_test'
      const s = await import(pathToFileURL(files[0]).href)
      const body = JSON.stringify({ id: 'evt_dist_1', type: 'invoice.paid' })
      const header = kc.signStripePayload(body, 'whsec_dist_test', now())
      const post = (b, h) => s.POST(new Request('http://localhost/stripe', { method: 'POST', body: b, headers: { 'stripe-signature': h } }))
      let res = await post(body, header)
      assert.equal(res.status, 200)
      assert.deepEqual(await res.json(), { received: true })
      assert.equal((await post(body, header)).status, 200) // a retry: handled once
      res = await post(body.replace('paid', 'void'), header)
      assert.equal(res.status, 400)
      assert.deepEqual(await res.json(), { error: 'KC_SIGNATURE_INVALID' })

      const secret = kc.generateStandardWebhookSecret()
      process.env.WEBHOOK_SECRET = secret
      const w = await import(pathToFileURL(files[1]).href)
      const t = now()
      const headers = { 'Webhook-Id': 'msg_dist_1', 'Webhook-Timestamp': String(t), 'Webhook-Signature': kc.signStandardWebhook(body, 'msg_dist_1', t, secret) }
      const postW = (h) => w.POST(new Request('http://localhost/standard', { method: 'POST', body, headers: h }))
      assert.equal((await postW(headers)).status, 204)
      assert.equal((await postW(headers)).status, 204) // redelivered: handled once
      res = await postW({ ...headers, 'Webhook-Id': 'msg_dist_2' })
      assert.equal(res.status, 400)
      assert.deepEqual(await res.json(), { error: 'KC_SIGNATURE_INVALID' })
    } finally {
      for (const f of files) fs.rmSync(f, { force: true })
      delete process.env.STRIPE_WEBHOOK_SECRET
      delete process.env.WEBHOOK_SECRET
    }
  })

  // The Next.js quickstart's one Node-side rule: the keyring is loaded at first use, so
  // importing the package needs none.
  test('[dist napi] the installed package imports without KEYCUSTODY_KEYRING and loads it at first use', () => {
    const saved = process.env.KEYCUSTODY_KEYRING
    delete process.env.KEYCUSTODY_KEYRING
    try {
      assert.throws(() => kc.Keyring.fromEnv(), (e) => e.code === 'KC_MISSING_ENV_VAR')
      process.env.KEYCUSTODY_KEYRING = kc.Keyring.generate().export()
      const kr = kc.Keyring.fromEnv()
      assert.equal(kr.openText('acme', kr.seal('acme', 'sk-or-v1-acme', 'openrouter_key'), 'openrouter_key'), 'sk-or-v1-acme')
    } finally {
      if (saved === undefined) delete process.env.KEYCUSTODY_KEYRING
      else process.env.KEYCUSTODY_KEYRING = saved
    }
  })
} else {
  test('[dist wasm-node] the README keycustody-wasm Node block prints what its comments say, from the installed package', () => {
    const section = readme.split('<!-- BEGIN wasm -->')[1].split('<!-- END wasm -->')[0]
    const js = blocks(section, 'js')[0]
    const want = [...js.matchAll(/console\.log\(.*\/\/ (.*)$/gm)].map((m) => m[1])
    assert.equal(want.length, 4)
    const file = writeInProject('snippet', js)
    try {
      const r = spawnSync(process.execPath, [file], { cwd: project, encoding: 'utf8', env: { PATH: process.env.PATH } })
      assert.equal(r.status, 0, r.stdout + r.stderr)
      assert.deepEqual(r.stdout.trim().split('\n'), want)
    } finally {
      fs.rmSync(file, { force: true })
    }
  })
}
