// examples/nextjs/README.md is the README's Next.js quickstart (paste-ready): its code blocks
// are this app's files verbatim, every file the app needs is shown, and its one command makes
// a keyring. The app itself is built and driven by app.test.mjs.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { Keyring } from 'keycustody'
import { APP, readmeKeyring } from './server.mjs'

const doc = fs.readFileSync(path.join(APP, 'README.md'), 'utf8')
const blocks = [...doc.matchAll(/```(\w+)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1], code: m[2] }))
// The files a user must write (the bench routes, the layout, the page and the second client
// component are the example's own).
const NEEDED = [
  'next.config.ts',
  'lib/keyring.ts',
  'lib/errors.ts',
  'lib/db.ts',
  'lib/keyring-wasm.ts',
  'lib/delivery.ts',
  'app/api/tenants/[tenant]/openrouter-key/route.ts',
  'app/api/edge/tenants/[tenant]/openrouter-key/route.ts',
  'app/api/tenants/[tenant]/delivery-key/route.ts',
  'app/api/tenants/[tenant]/delivery/route.ts',
  'app/deliver-key.tsx',
]

test('each code block naming a file is that file verbatim, and every needed file is shown', () => {
  const shown = new Set()
  for (const { lang, code } of blocks) {
    if (lang !== 'ts' && lang !== 'tsx') continue
    const name = code.match(/^\/\/ (\S+)\n/)?.[1]
    assert.ok(name, `a ${lang} block does not start with its file name: ${code.slice(0, 60)}`)
    assert.equal(code, fs.readFileSync(path.join(APP, name), 'utf8'), `README block differs from ${name}`)
    shown.add(name)
  }
  assert.deepEqual([...shown].sort(), [...NEEDED].sort())
})

test('the config is one line: keycustody as a server external package', () => {
  const config = fs.readFileSync(path.join(APP, 'next.config.ts'), 'utf8')
  assert.match(config, /^\s*serverExternalPackages: \['keycustody'\],$/m)
  assert.equal(config.split('\n').filter((l) => /^\s+\w+:/.test(l)).length, 1, 'next.config.ts has one option')
})

test('the quickstart starts by creating the keyring, one command, which works', () => {
  const sh = blocks.find((b) => b.lang === 'sh')?.code
  assert.ok(sh, 'the quickstart has a sh block')
  const lines = sh.split('\n').filter(Boolean)
  assert.equal(lines[0], 'npm install keycustody keycustody-wasm')
  assert.match(lines[1], /^export KEYCUSTODY_KEYRING=/)
  assert.match(sh, /next build --webpack/)
  assert.match(sh, /next start/)
  // Run the command as written (in this app, where `npm install` has put keycustody), with no
  // keyring in the environment, and check that it made one (app.test.mjs serves the app with
  // what it makes).
  const keyring = Keyring.parse(readmeKeyring())
  assert.equal(keyring.primaryKid, 1)
  assert.equal(keyring.openText('t', keyring.seal('t', 'v', 'c'), 'c'), 'v')
})
