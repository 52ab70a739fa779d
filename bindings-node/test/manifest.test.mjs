// The Node package against the API manifest (tests/api.json): every name, parameter and
// optional parameter the manifest lists for `node`, and nothing exported beyond it.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import test from 'node:test'
import { kc, pkgDir } from './helpers.mjs'
import { checkDefaults, checkJs, defaultProbes, loadManifest, readDts } from '../../tests/api-check.mjs'

const manifest = loadManifest()
const dtsText = fs.readFileSync(path.join(pkgDir, 'index.d.ts'), 'utf8')

function surface(module = kc, text = dtsText) {
  const runtimeClasses = {}
  for (const [k, v] of Object.entries(module)) if (typeof v === 'function' && /^[A-Z]/.test(k)) runtimeClasses[k] = v
  return { dts: readDts(text), exports: Object.keys(module), runtimeClasses }
}

test('the Node package matches tests/api.json', () => {
  assert.deepEqual(checkJs(manifest, 'node', surface()), [])
})

test('the .d.ts reader sees the whole declared surface', () => {
  const dts = readDts(dtsText)
  // Every runtime export but the napi marker is declared as a function or class.
  for (const name of Object.keys(kc)) {
    if (name === '__napiBindingTarget') continue
    assert.ok(name in dts.functions || name in dts.classes, `${name} is not read from index.d.ts`)
  }
  assert.deepEqual(
    dts.functions.sealForDelivery.map((p) => [p.name, p.optional]),
    [['publicKey', false], ['owner', false], ['plaintext', false], ['expectedFingerprint', true]],
  )
  assert.ok(dts.classes.Keyring.props.includes('primaryKid'))
  assert.ok('fromEnv' in dts.classes.Keyring.statics)
})

// The test of the test: a surface that differs from the manifest in each way is reported.
test('the checker reports an extra export, a renamed parameter and a lost default', () => {
  const extraFn = Object.assign(() => {}, {})
  const fake = { ...kc, sneakyExport: extraFn }
  const extraDts = dtsText
    + '\nexport declare function sneakyExport(x: string): string\n'
  let problems = checkJs(manifest, 'node', surface(fake, extraDts))
  assert.ok(problems.some((p) => p.startsWith('sneakyExport: exported, not in the manifest')), problems.join('\n'))
  assert.ok(problems.some((p) => p.startsWith('function sneakyExport: declared')), problems.join('\n'))

  const renamed = dtsText.replace(/randomString\(alphabet: string/, 'randomString(chars: string')
  assert.notEqual(renamed, dtsText)
  problems = checkJs(manifest, 'node', surface(kc, renamed))
  assert.ok(problems.some((p) => p.startsWith('function randomString:')), problems.join('\n'))

  const required = dtsText.replace(/derive(Key\(purpose: string, owner: string, length)\?/, 'derive$1')
  assert.notEqual(required, dtsText)
  problems = checkJs(manifest, 'node', surface(kc, required))
  assert.ok(problems.some((p) => p.startsWith('Keyring.deriveKey:')), problems.join('\n'))

  class Keyring extends kc.Keyring {
    extraMethod() {}
  }
  problems = checkJs(manifest, 'node', surface({ ...kc, Keyring }))
  assert.ok(problems.some((p) => p.startsWith('Keyring.extraMethod: on the prototype')), problems.join('\n'))

  const { randomString, ...withoutOne } = kc
  assert.equal(typeof randomString, 'function')
  problems = checkJs(manifest, 'node', surface(withoutOne))
  assert.ok(problems.some((p) => p === 'function randomString: in the manifest, not exported'), problems.join('\n'))
})

// Item 3: a default the manifest ties to a core constant behaves as that constant's value
// when the argument is omitted (a .d.ts cannot say which value a binding uses).
test('omitted arguments take core\'s defaults', () => {
  // verifyStandardWebhook's probe needs the header-mapping form of branch errors13.
  const skip = /verifyStandardWebhook\(payload[^)]*msgId/.test(dtsText) ? ['verify_standard_webhook.tolerance'] : []
  assert.deepEqual(checkDefaults(manifest, 'node', kc, { skip }), [])
})

test('the default probes catch a binding that restates another value', () => {
  const drifted = { ...manifest, classes: structuredClone(manifest.classes) }
  const ctor = drifted.classes.find((c) => c.python === 'ReplayGuard').constructor
  ctor.params[1].default.value = 86400 // the TTL Python had before issue 13
  assert.ok(checkDefaults(drifted, 'node', kc).some((p) => p.startsWith('ReplayGuard.new.ttl_seconds: omitted is not')))
  const unprobed = structuredClone(manifest)
  unprobed.functions.find((f) => f.python === 'random_token').params[0].default = { const: 'NEW_DEFAULT', value: 32 }
  assert.ok(checkDefaults(unprobed, 'node', kc).some((p) => p.startsWith('random_token.nbytes: defaults to NEW_DEFAULT but')))
  assert.ok(Object.keys(defaultProbes).length > 5)
})
