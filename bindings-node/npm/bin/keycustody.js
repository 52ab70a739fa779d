#!/usr/bin/env node
'use strict'
// `npx keycustody …`: runs the keycustody CLI binary shipped in this platform's package
// (keycustody-<platform>/keycustody), passing arguments, stdio, exit code and signals through.
const fs = require('node:fs')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { platformPackage, missingBindingError } = require('../platform.js')

const pkg = platformPackage()
let exe
try {
  exe = path.join(path.dirname(require.resolve(`${pkg}/package.json`)), process.platform === 'win32' ? 'keycustody.exe' : 'keycustody')
  fs.accessSync(exe, fs.constants.X_OK)
} catch (err) {
  console.error(missingBindingError(err, 'keycustody CLI binary').message)
  process.exit(127)
}
const r = spawnSync(exe, process.argv.slice(2), { stdio: 'inherit' })
if (r.error) {
  console.error(`keycustody: could not run ${exe}: ${r.error.message}`)
  process.exit(127)
}
if (r.signal) process.kill(process.pid, r.signal)
process.exit(r.status ?? 1)
