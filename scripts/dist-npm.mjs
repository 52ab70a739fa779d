// Assembles and packs the napi-rs release layout (called by scripts/dist.sh):
//   keycustody            index.js over the loader native.js (napi's, its load error from
//                         bindings-node/npm/platform.js), index.d.ts, `npx keycustody`
//                         (bin/keycustody.js), the platform packages as optionalDependencies,
//                         all at the workspace version;
//   keycustody-<platform> one per built target: keycustody.<platform>.node and the CLI binary.
// Usage: node scripts/dist-npm.mjs VERSION STAGE OUT_DIR MODE
import fs from 'node:fs'
import path from 'node:path'
import { execFileSync } from 'node:child_process'

const [version, stageArg, outArg, mode] = process.argv.slice(2)
const stage = path.resolve(stageArg)
const out = path.resolve(outArg)
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..')
const src = JSON.parse(fs.readFileSync(path.join(root, 'bindings-node', 'package.json'), 'utf8'))
const PLATFORMS = {
  'linux-x64-gnu': { os: ['linux'], cpu: ['x64'], libc: ['glibc'] },
  'linux-arm64-gnu': { os: ['linux'], cpu: ['arm64'], libc: ['glibc'] },
  'linux-x64-musl': { os: ['linux'], cpu: ['x64'], libc: ['musl'] },
  'linux-arm64-musl': { os: ['linux'], cpu: ['arm64'], libc: ['musl'] },
  // Built only by .github/workflows/release.yml (its publish job runs this script over all of them).
  'darwin-x64': { os: ['darwin'], cpu: ['x64'] },
  'darwin-arm64': { os: ['darwin'], cpu: ['arm64'] },
  'win32-x64-msvc': { os: ['win32'], cpu: ['x64'] },
}
const TRIPLES = {
  'x86_64-unknown-linux-gnu': 'linux-x64-gnu',
  'aarch64-unknown-linux-gnu': 'linux-arm64-gnu',
  'x86_64-unknown-linux-musl': 'linux-x64-musl',
  'aarch64-unknown-linux-musl': 'linux-arm64-musl',
  'x86_64-apple-darwin': 'darwin-x64',
  'aarch64-apple-darwin': 'darwin-arm64',
  'x86_64-pc-windows-msvc': 'win32-x64-msvc',
}
const napiDir = path.join(stage, 'napi')
const built = fs
  .readdirSync(napiDir)
  .map((f) => /^keycustody\.(.+)\.node$/.exec(f)?.[1])
  .filter(Boolean)
  .sort()
if (!built.length) throw new Error(`no .node files in ${napiDir}`)
const common = { version, license: src.license, repository: src.repository, engines: src.engines }
const write = (dir, name, text, mode = 0o644) => {
  fs.mkdirSync(dir, { recursive: true })
  fs.writeFileSync(path.join(dir, name), text, { mode })
}
const pack = (dir) => execFileSync('npm', ['pack', '--silent', '--pack-destination', out], { cwd: dir, encoding: 'utf8' }).trim()

const pkgs = path.join(stage, 'npm')
fs.rmSync(pkgs, { recursive: true, force: true })
const optional = {}
for (const p of built) {
  if (!PLATFORMS[p]) throw new Error(`no npm platform description for ${p}`)
  const name = `keycustody-${p}`
  const dir = path.join(pkgs, name)
  const files = [`keycustody.${p}.node`]
  fs.mkdirSync(dir, { recursive: true })
  fs.copyFileSync(path.join(napiDir, files[0]), path.join(dir, files[0]))
  const exe = p.startsWith('win32-') ? 'keycustody.exe' : 'keycustody'
  const cli = path.join(stage, 'cli', p, exe)
  if (fs.existsSync(cli)) {
    fs.copyFileSync(cli, path.join(dir, exe))
    fs.chmodSync(path.join(dir, exe), 0o755)
    files.push(exe)
  } else if (mode === 'full') {
    throw new Error(`no CLI binary for ${p} in ${cli}`)
  }
  write(dir, 'README.md', `# ${name}\n\nThe ${p} binary of [keycustody](https://www.npmjs.com/package/keycustody) (the Node addon${files.length > 1 ? ' and the `keycustody` CLI' : ''}). Install \`keycustody\`, which depends on this package for this platform.\n`)
  write(dir, 'package.json', JSON.stringify({ name, ...common, description: `The ${p} binary of keycustody.`, ...PLATFORMS[p], main: files[0], files }, null, 2) + '\n')
  optional[name] = version
  console.log(`-- npm ${name}: ${pack(dir)}`)
}

const dir = path.join(pkgs, 'keycustody')
fs.mkdirSync(dir, { recursive: true })
fs.copyFileSync(path.join(root, 'bindings-node', 'npm', 'platform.js'), path.join(dir, 'platform.js'))
fs.mkdirSync(path.join(dir, 'bin'), { recursive: true })
fs.copyFileSync(path.join(root, 'bindings-node', 'npm', 'bin', 'keycustody.js'), path.join(dir, 'bin', 'keycustody.js'))
fs.chmodSync(path.join(dir, 'bin', 'keycustody.js'), 0o755)
fs.copyFileSync(path.join(napiDir, 'index.d.ts'), path.join(dir, 'index.d.ts'))
// native.js: the loader `napi build --js native.js` generated, its load-failure error replaced
// by platform.js's, which names the package to install and the supported targets; index.js:
// the package's hand-written entry point over it (bindings-node/index.js, whose literal
// `module.exports.X =` lines are how Node finds the named exports of `import { Keyring }`).
fs.copyFileSync(path.join(root, 'bindings-node', 'index.js'), path.join(dir, 'index.js'))
const generated = fs.readFileSync(path.join(napiDir, 'native.js'), 'utf8')
const failure = '\nif (!nativeBinding) {\n'
if (generated.split(failure).length !== 2) throw new Error('the generated loader has no single `if (!nativeBinding) {` block')
const loader = generated.replace(failure, `${failure}  throw require('./platform.js').missingBindingError(loadErrors)\n`)
fs.writeFileSync(path.join(dir, 'native.js'), loader)
for (const p of built) {
  if (!loader.includes(`require('keycustody-${p}')`)) throw new Error(`the generated loader does not load keycustody-${p}`)
}
const main = {
  name: src.name,
  ...common,
  description: src.description,
  main: 'index.js',
  types: 'index.d.ts',
  exports: src.exports,
  bin: { keycustody: 'bin/keycustody.js' },
  files: ['index.js', 'native.js', 'platform.js', 'index.d.ts', 'bin/'],
  napi: { ...src.napi, targets: built.map((p) => Object.keys(TRIPLES).find((t) => TRIPLES[t] === p)) },
  optionalDependencies: optional,
}
write(dir, 'package.json', JSON.stringify(main, null, 2) + '\n')
console.log(`-- npm keycustody: ${pack(dir)}`)
