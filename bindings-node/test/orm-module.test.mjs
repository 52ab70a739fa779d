// keycustody/orm (what keycustody-drizzle and keycustody-prisma share) is shipped by this
// package: listed in "files", resolvable through "exports", and in the packed tarball.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import fs from 'node:fs'
import path from 'node:path'
import { pkgDir } from './helpers.mjs'

const pkg = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8'))

test('package.json ships orm.js and orm.d.ts and exports them as keycustody/orm', () => {
  assert.deepEqual(pkg.exports['./orm'], { types: './orm.d.ts', default: './orm.js' })
  for (const f of ['orm.js', 'orm.d.ts']) {
    assert.ok(pkg.files.includes(f), `${f} is not in "files"`)
    assert.ok(fs.existsSync(path.join(pkgDir, f)), `${f} is missing`)
  }
  // Resolved by name, through "exports" (the package refers to itself).
  const orm = createRequire(path.join(pkgDir, 'index.js'))('keycustody/orm')
  for (const name of ['keyringOf', 'sealForOwner', 'openForOwner', 'ownerMissing', 'rowDecrypt', 'unsealedWrite']) {
    assert.equal(typeof orm[name], 'function', name)
  }
  assert.deepEqual(Object.keys(orm.errors), ['OwnerMissingError', 'PlaintextValueError', 'RowDecryptError', 'UnsealedWriteError'])
})

test('npm pack puts keycustody/orm in the tarball', () => {
  const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: pkgDir, encoding: 'utf8' })
  assert.equal(r.status, 0, r.stderr)
  const files = JSON.parse(r.stdout)[0].files.map((f) => f.path)
  assert.ok(files.includes('orm.js') && files.includes('orm.d.ts'), files.join(', '))
})
