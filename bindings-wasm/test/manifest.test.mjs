// The wasm package against the API manifest (tests/api.json): every name, parameter and
// optional parameter the manifest lists for `wasm`, and nothing exported beyond it. The
// declarations are wasm-bindgen's pkg/keycustody_wasm.d.ts (index.d.ts re-exports them and
// they describe keyring.js's Keyring); the exports are the package's Node entry. The companion
// module keycustody-wasm/scrub is checked the same way against the manifest's entries with
// `"module": {"wasm": "scrub"}` (its pkg/scrub/keycustody_wasm_scrub.d.ts, scrub.d.ts and the
// exports of both of its entries).
import assert from 'node:assert/strict'
import fs from 'node:fs'
import test from 'node:test'
import * as pkg from '../node.js'
import * as scrubPkg from '../scrub-inline.js'
import * as scrubBrowser from '../scrub.js'
import { checkDefaults, checkJs, defaultProbes, loadManifest, readDts } from '../../tests/api-check.mjs'

const manifest = loadManifest()
const dtsText = fs.readFileSync(new URL('../pkg/keycustody_wasm.d.ts', import.meta.url), 'utf8')
// What the package's index.d.ts declares of its own on top of the generated declarations.
const indexDts = fs.readFileSync(new URL('../index.d.ts', import.meta.url), 'utf8')

function surface(module = pkg, text = dtsText) {
  const runtimeClasses = {}
  for (const [k, v] of Object.entries(module)) if (typeof v === 'function' && /^[A-Z]/.test(k)) runtimeClasses[k] = v
  return { dts: readDts(text), exports: Object.keys(module), runtimeClasses }
}

test('the wasm package matches tests/api.json', () => {
  assert.deepEqual(checkJs(manifest, 'wasm', surface()), [])
})

test('keycustody-wasm/scrub matches the entries tests/api.json places in it, and only those', () => {
  const text = fs.readFileSync(new URL('../pkg/scrub/keycustody_wasm_scrub.d.ts', import.meta.url), 'utf8')
  assert.deepEqual(checkJs(manifest, 'wasm', surface(scrubPkg, text), { module: 'scrub' }), [])
  // Both entries (browser scrub.js, inline scrub-inline.js) export the same names.
  assert.deepEqual(Object.keys(scrubBrowser).sort(), Object.keys(scrubPkg).sort())
  // scrub.d.ts declares nothing of its own: it re-exports the generated declarations.
  const own = readDts(fs.readFileSync(new URL('../scrub.d.ts', import.meta.url), 'utf8'))
  assert.deepEqual([Object.keys(own.functions), Object.keys(own.classes)], [[], []])
  // The package's exports map reaches it under each of the main package's loading forms.
  const { exports } = JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
  assert.deepEqual(Object.keys(exports).filter((k) => k.startsWith('./scrub')), ['./scrub', './scrub/inline', './scrub/wasm', './scrub/wasm?module'])
})

test('the checker places a function in its module: scrub on the main entry, or missing from its module, is reported', () => {
  const moved = checkJs(manifest, 'wasm', surface({ ...pkg, scrub: scrubPkg.scrub }, dtsText + '\nexport function scrub(text: string): string;\n'))
  assert.ok(moved.some((p) => p.startsWith('scrub: exported, not in the manifest')), moved.join('\n'))
  const text = fs.readFileSync(new URL('../pkg/scrub/keycustody_wasm_scrub.d.ts', import.meta.url), 'utf8')
  const { scrub, ...rest } = scrubPkg
  const lost = checkJs(manifest, 'wasm', surface(rest, text), { module: 'scrub' })
  assert.ok(lost.some((p) => p.startsWith('function scrub: in the manifest, not exported')), lost.join('\n'))
  // The main entry's functions are not expected in the companion module.
  assert.ok(!checkJs(manifest, 'wasm', surface(scrubPkg, text), { module: 'scrub' }).some((p) => /inspect/.test(p)))
})

test('index.d.ts re-exports the generated declarations and declares no function or class of its own', () => {
  const own = readDts(indexDts)
  assert.deepEqual([Object.keys(own.functions), Object.keys(own.classes)], [[], []])
  assert.match(indexDts, /pkg\/keycustody_wasm/)
})

test('the package and the browser entry export the same names', async () => {
  const text = fs.readFileSync(new URL('../index.js', import.meta.url), 'utf8')
  assert.match(text, /export \* from '\.\/pkg\/keycustody_wasm\.js'/)
  assert.match(text, /export \{ Keyring \} from '\.\/keyring\.js'/)
})

// The test of the test: a surface that differs from the manifest in each way is reported.
test('the checker reports an extra export, a renamed parameter and a lost default', () => {
  const fake = { ...pkg, sneakyExport: () => {} }
  let problems = checkJs(manifest, 'wasm', surface(fake, dtsText + '\nexport function sneakyExport(x: string): string;\n'))
  assert.ok(problems.some((p) => p.startsWith('sneakyExport: exported, not in the manifest')), problems.join('\n'))
  assert.ok(problems.some((p) => p.startsWith('function sneakyExport: declared')), problems.join('\n'))

  const renamed = dtsText.replace(/randomString\(alphabet: string/, 'randomString(chars: string')
  assert.notEqual(renamed, dtsText)
  problems = checkJs(manifest, 'wasm', surface(pkg, renamed))
  assert.ok(problems.some((p) => p.startsWith('function randomString:')), problems.join('\n'))

  const required = dtsText.replace(/totpStep\(now\?/, 'totpStep(now')
  assert.notEqual(required, dtsText)
  problems = checkJs(manifest, 'wasm', surface(pkg, required))
  assert.ok(problems.some((p) => p.startsWith('function totpStep:')), problems.join('\n'))

  class Keyring extends pkg.Keyring {
    extraMethod() {}
  }
  problems = checkJs(manifest, 'wasm', surface({ ...pkg, Keyring }))
  assert.ok(problems.some((p) => p.startsWith('Keyring.extraMethod: on the prototype')), problems.join('\n'))
})

// Item 3: a default the manifest ties to a core constant behaves as that constant's value
// when the argument is omitted (a .d.ts cannot say which value a binding uses).
test('omitted arguments take core\'s defaults', () => {
  // verifyStandardWebhook's probe needs the header-mapping form of branch errors13.
  const skip = /verifyStandardWebhook\(payload[^)]*msgId/.test(dtsText) ? ['verify_standard_webhook.tolerance'] : []
  assert.deepEqual(checkDefaults(manifest, 'wasm', pkg, { skip }), [])
})

test('the default probes catch a binding that restates another value', () => {
  const drifted = { ...manifest, classes: structuredClone(manifest.classes) }
  const ctor = drifted.classes.find((c) => c.python === 'ReplayGuard').constructor
  ctor.params[1].default.value = 86400 // the TTL Python had before issue 13
  assert.ok(checkDefaults(drifted, 'wasm', pkg).some((p) => p.startsWith('ReplayGuard.new.ttl_seconds: omitted is not')))
  const unprobed = structuredClone(manifest)
  unprobed.functions.find((f) => f.python === 'random_token').params[0].default = { const: 'NEW_DEFAULT', value: 32 }
  assert.ok(checkDefaults(unprobed, 'wasm', pkg).some((p) => p.startsWith('random_token.nbytes: defaults to NEW_DEFAULT but')))
  assert.ok(Object.keys(defaultProbes).length > 5)
})
