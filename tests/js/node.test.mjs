// The shared JS suite in Node: KC_JS_TARGET=napi | wasm-node node --test tests/js/node.test.mjs
// (make test-node / make test-wasm run it; tests/js/chromium.test.mjs runs it in Chromium).
import { test } from 'node:test'
import { makeContext, collect } from './harness.mjs'
import { loadModules } from './suite.mjs'
import { loadPackage, manifest, nodeHost } from './node-host.mjs'

const target = process.env.KC_JS_TARGET
if (!target) throw new Error('KC_JS_TARGET is not set (napi | wasm-node)')
const runtime = target === 'napi' ? 'node' : 'wasm'
const kc = await loadPackage(target)
const ctx = makeContext({ kc, target, runtime, manifest, host: nodeHost() })
const only = process.env.KC_JS_ONLY ? new RegExp(process.env.KC_JS_ONLY) : null
for (const t of await collect(await loadModules(), ctx)) {
  if (only && !only.test(t.name)) continue
  test(`[${target}] ${t.name}`, { skip: t.skip }, t.fn)
}
