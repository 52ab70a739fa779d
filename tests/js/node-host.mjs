// The Node host of the shared JS suite: loads a package (napi or wasm) and provides what the
// suite asks of its host (vectors, Rust interop, temporary files, environment variables).
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import util from 'node:util'
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { withCompanions } from './harness.mjs'

export const HERE = path.dirname(fileURLToPath(import.meta.url))
export const REPO = path.resolve(HERE, '..', '..')
export const manifest = JSON.parse(fs.readFileSync(path.join(REPO, 'tests', 'api.json'), 'utf8'))

/**
 * The package under test, as users load it. For wasm: the Node entry, with `scrub` from the
 * companion module keycustody-wasm/scrub (its Node entry, scrub-inline.js): see withCompanions.
 */
export async function loadPackage(target) {
  if (target === 'napi') return createRequire(import.meta.url)(path.join(REPO, 'bindings-node', 'index.js'))
  if (target === 'wasm-node') {
    const kc = await import(path.join(REPO, 'bindings-wasm', 'node.js'))
    const scrub = await import(path.join(REPO, 'bindings-wasm', 'scrub-inline.js'))
    return withCompanions(kc, { scrub }, manifest, 'wasm')
  }
  throw new Error(`unknown target ${target} (napi | wasm-node; wasm-chromium runs in tests/js/chromium.test.mjs)`)
}

export function readVectors() {
  const dir = path.join(REPO, 'tests', 'vectors')
  const files = {}
  for (const f of fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
    files[f] = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'))
  }
  return files
}

// `--locked` as everywhere in `make test`; KC_CARGO_FLAGS overrides it for local runs.
const CARGO_FLAGS = (process.env.KC_CARGO_FLAGS ?? '--locked').split(' ').filter(Boolean)
let examples

/** Core's interop examples (`interop`: kc1; `platform_interop`: delivery), built once. */
function exampleBin(name) {
  if (!examples) {
    examples = {}
    const r = spawnSync(
      'cargo',
      ['build', '-q', ...CARGO_FLAGS, '--message-format=json', '-p', 'keycustody', '--example', 'interop', '--example', 'platform_interop'],
      { cwd: REPO, encoding: 'utf8', maxBuffer: 1 << 26, stdio: ['ignore', 'pipe', 'inherit'] },
    )
    if (r.status !== 0) throw new Error('cargo build of the interop examples failed')
    for (const line of r.stdout.split('\n')) {
      if (!line.startsWith('{')) continue
      const m = JSON.parse(line)
      if (m.reason === 'compiler-artifact' && m.executable) examples[m.target.name] = m.executable
    }
  }
  if (!examples[name]) throw new Error(`no executable for example ${name}`)
  return examples[name]
}

/** Runs a core example; input: string | Uint8Array. Returns {status, stdout: Uint8Array, stderr}. */
export function rustExample(example, args, input = '') {
  const r = spawnSync(exampleBin(example), args, { cwd: REPO, input, maxBuffer: 1 << 28 })
  if (r.error) throw r.error
  return { status: r.status, stdout: new Uint8Array(r.stdout), stderr: r.stderr.toString() }
}

/** The host object (see tests/js/README.md). */
export function nodeHost() {
  let dir
  const tmp = () => (dir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'kc-js-suite-')))
  process.on('exit', () => dir && fs.rmSync(dir, { recursive: true, force: true }))
  return {
    name: 'node',
    vectors: async () => readVectors(),
    rust: async (example, args, input) => rustExample(example, args, input),
    /** Writes `text` to a new 0600 file in a temporary directory; returns its path. */
    writeFile: async (name, text) => {
      const file = path.join(tmp(), name)
      fs.writeFileSync(file, text, { mode: 0o600 })
      fs.chmodSync(file, 0o600)
      return file
    },
    inspect: (v) => util.inspect(v, { showHidden: true, depth: 5 }),
    /** The text of a file of the repository (`core/tests/data/...`), by its path from the root. */
    repoText: async (rel) => fs.readFileSync(path.join(REPO, rel), 'utf8'),
    // Node only (null in the browser): the process environment and the file system.
    node: { fs, os, path, process, tmp },
  }
}
