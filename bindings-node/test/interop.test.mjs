// Envelopes sealed in Node open in Rust (core/examples/interop.rs) and vice versa.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { kc, repoRoot } from './helpers.mjs'

function interop(args, input) {
  const bin = process.env.KEYCUSTODY_INTEROP_BIN
  const [cmd, pre] = bin ? [bin, []] : ['cargo', ['run', '-q', '--locked', '-p', 'keycustody', '--example', 'interop', '--']]
  const r = spawnSync(cmd, [...pre, ...args], { input, cwd: repoRoot, maxBuffer: 64 << 20 })
  assert.equal(r.error, undefined, `could not run the interop tool: ${r.error}`)
  return r
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kc-interop-'))
test.after(() => fs.rmSync(dir, { recursive: true, force: true }))

const k = kc.Keyring.generate()
k.rotate()
const file = path.join(dir, 'keyring.json')
fs.writeFileSync(file, k.export(), { mode: 0o600 })

const cases = [
  ['text', 'tenant-42', 'openrouter_key', Buffer.from('sk-or-v1-0123456789')],
  ['binary, empty context', 'tenant-é', '', Buffer.from([0, 255, 1, 254, 10, 13])],
  ['empty plaintext', 'o', 'c', Buffer.alloc(0)],
  ['256 KiB', 'big', 'blob', Buffer.alloc(256 * 1024, 0x5a)],
]

for (const [name, owner, context, plain] of cases) {
  test(`Node seals, Rust opens: ${name}`, () => {
    const env = k.seal(owner, plain, context)
    const r = interop(['open', file, owner, context], env)
    assert.equal(r.status, 0, r.stderr.toString())
    assert.deepEqual(r.stdout, plain)
    const info = JSON.parse(interop(['inspect'], env).stdout.toString())
    assert.deepEqual(info, { version: 1, kid: 2, plaintext_len: plain.length })
  })

  test(`Rust seals, Node opens: ${name}`, () => {
    const r = interop(['seal', file, owner, context], plain)
    assert.equal(r.status, 0, r.stderr.toString())
    const env = r.stdout.toString()
    assert.deepEqual(k.open(owner, env, context), plain)
    assert.equal(kc.inspect(env).kid, 2)
  })
}

test('both sides refuse the wrong owner with the same error kind', () => {
  const env = k.seal('tenant-a', 'x', 'c')
  const r = interop(['open', file, 'tenant-b', 'c'], env)
  assert.equal(r.status, 1)
  assert.equal(r.stderr.toString().trim(), 'DecryptFailed')
  assert.throws(() => k.open('tenant-b', env, 'c'), { code: 'KC_DECRYPT_FAILED', kind: 'DecryptFailed' })
})

test('an envelope under the old key, sealed in Rust, rewraps in Node', () => {
  const old = kc.Keyring.parse(k.export())
  // Make kid 1 the primary of a copy, seal there with Rust, then rewrap with the real keyring.
  old.promote(1)
  const oldFile = path.join(dir, 'old.json')
  fs.writeFileSync(oldFile, old.export(), { mode: 0o600 })
  const r = interop(['seal', oldFile, 'tenant-1', 'ctx'], Buffer.from('v'))
  assert.equal(r.status, 0, r.stderr.toString())
  const env = r.stdout.toString()
  assert.equal(kc.inspect(env).kid, 1)
  assert.equal(k.needsRewrap(env), true)
  const fresh = k.rewrap('tenant-1', env, 'ctx')
  assert.equal(kc.inspect(fresh).kid, 2)
  const back = interop(['open', file, 'tenant-1', 'ctx'], fresh)
  assert.equal(back.stdout.toString(), 'v')
})
