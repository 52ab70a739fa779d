// The npm tarballs of `make dist` as a user gets them: KC_DIST_PROJECT is a fresh npm project into
// which scripts/test-dist.sh installed the packed tarballs (no registry for our packages).
// KC_DIST_TARGET=napi (keycustody) | wasm-node (keycustody-wasm). Runs the shared JS suite
// (tests/js; KC_JS_ONLY narrows it, e.g. under qemu) and the README quickstart of that package
// against the installed copy, never against the source tree.
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

if (target === 'napi') {
  // The README's Node quickstart is now a Next.js app in TypeScript (examples/nextjs), which
  // `make test-nextjs` builds and drives against the packed packages; what runs here is its one
  // Node-side rule: the keyring is loaded at first use, so importing the package needs none.
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
    const file = path.join(project, `snippet-${process.pid}.mjs`)
    fs.writeFileSync(file, js)
    try {
      const r = spawnSync(process.execPath, [file], { cwd: project, encoding: 'utf8', env: { PATH: process.env.PATH } })
      assert.equal(r.status, 0, r.stdout + r.stderr)
      assert.deepEqual(r.stdout.trim().split('\n'), want)
    } finally {
      fs.rmSync(file, { force: true })
    }
  })
}
