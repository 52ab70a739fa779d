'use strict'
// Which platform package this machine needs, and the error when it is missing (published in the
// `keycustody` npm package: the napi-rs loader index.js throws it, and bin/keycustody.js prints it).
const path = require('node:path')

function libc() {
  if (process.platform !== 'linux') return null
  try {
    const report = process.report.getReport()
    const header = (typeof report === 'string' ? JSON.parse(report) : report).header
    return header && header.glibcVersionRuntime ? 'gnu' : 'musl'
  } catch {
    return 'gnu'
  }
}

/** The napi-rs platform suffix: linux-x64-gnu, linux-arm64-musl, darwin-arm64, win32-x64-msvc… */
function platformSuffix() {
  const { platform, arch } = process
  if (platform === 'linux') return `linux-${arch}-${libc()}`
  if (platform === 'win32') return `win32-${arch}-msvc`
  return `${platform}-${arch}`
}

function packageJson() {
  try {
    return require(path.join(__dirname, 'package.json'))
  } catch {
    return {}
  }
}

/** The per-platform packages this release publishes (its optionalDependencies). */
function supportedPackages() {
  return Object.keys(packageJson().optionalDependencies || {}).sort()
}

function platformPackage() {
  return `keycustody-${platformSuffix()}`
}

function resolvable(id) {
  try {
    require.resolve(id)
    return true
  } catch {
    return false
  }
}

function describe() {
  const l = libc()
  return `${process.platform} ${process.arch}${l ? ` (${l === 'gnu' ? 'glibc' : 'musl'})` : ''}, Node ${process.version}`
}

/** The error for a binding that could not be loaded: names the package to install and the targets. */
function missingBindingError(cause, what = 'native binding') {
  const pkg = platformPackage()
  const { version } = packageJson()
  const supported = supportedPackages()
  const targets = supported.length ? supported.map((p) => p.replace(/^keycustody-/, '')).join(', ') : 'none listed'
  let msg
  if (resolvable(`${pkg}/package.json`)) {
    msg =
      `keycustody: the ${what} from ${pkg} is installed but failed to load on ${describe()}: ` +
      `${[].concat(cause).map((e) => (e && e.message) || String(e)).join('; ')}.`
  } else if (supported.includes(pkg)) {
    msg =
      `keycustody: the ${what} for ${describe()} is the package ${pkg}, which is not installed ` +
      `(npm skips optional dependencies with --omit=optional, or with a lock file made on another ` +
      `platform). Install it: npm i ${pkg}${version ? `@${version}` : ''}.`
  } else {
    msg =
      `keycustody: no prebuilt ${what} for ${describe()} (it would be the package ${pkg}, which is ` +
      `not published). Use keycustody-wasm (npm i keycustody-wasm), or build from source with a Rust toolchain.`
  }
  const err = new Error(`${msg} Supported targets: ${targets}.`, { cause })
  err.code = 'KC_NO_NATIVE_BINDING'
  return err
}

module.exports = { platformSuffix, platformPackage, supportedPackages, missingBindingError }
