// Helpers for the app's tests and bench: `next build` and `next start` on 127.0.0.1 at a free
// random port, and headless Chromium (the system's `chromium`, driven by playwright-core).
import { spawn, spawnSync, execFileSync } from 'node:child_process'
import { createServer } from 'node:net'
import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const APP = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const NEXT = path.join(APP, 'node_modules', 'next', 'dist', 'bin', 'next')

// The environment without any keyring: what the build machine has.
export function envWithout(...names) {
  const env = { ...process.env, NEXT_TELEMETRY_DISABLED: '1' }
  for (const n of names) delete env[n]
  return env
}

// The keyring's JSON text made by the quickstart's one command (the `export KEYCUSTODY_KEYRING=`
// line of README.md's first ```sh block), run as written in this app (where `npm install` put
// keycustody) with no keyring in the environment: what the quickstart then serves with.
export function readmeKeyring() {
  const doc = readFileSync(path.join(APP, 'README.md'), 'utf8')
  const sh = doc.match(/```sh\n([\s\S]*?)```/)?.[1] ?? ''
  const line = sh.split('\n').find((l) => l.startsWith('export KEYCUSTODY_KEYRING='))
  if (!line) throw new Error('the quickstart has no `export KEYCUSTODY_KEYRING=` line')
  const r = spawnSync('bash', ['-euo', 'pipefail', '-c', `${line}\nprintf %s "$KEYCUSTODY_KEYRING"`], {
    cwd: APP,
    env: envWithout('KEYCUSTODY_KEYRING'),
    encoding: 'utf8',
  })
  if (r.status !== 0 || !r.stdout) throw new Error(`the quickstart's keyring command failed: ${r.stderr}`)
  return r.stdout
}

// `next build` (Turbopack, Next 16's default) or `next build --webpack`, without KEYCUSTODY_KEYRING.
export function build(bundler) {
  const args = [NEXT, 'build', ...(bundler === 'webpack' ? ['--webpack'] : [])]
  const r = spawnSync(process.execPath, args, { cwd: APP, env: envWithout('KEYCUSTODY_KEYRING'), encoding: 'utf8', maxBuffer: 64 << 20 })
  return { status: r.status, output: `${r.stdout}\n${r.stderr}` }
}

async function freePort() {
  for (;;) {
    const port = 20000 + Math.floor(Math.random() * 40000)
    const ok = await new Promise((resolve) => {
      const s = createServer().once('error', () => resolve(false))
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)))
    })
    if (ok) return port
  }
}

// `next start` on 127.0.0.1; resolves once it answers. `env` replaces KEYCUSTODY_KEYRING's value
// (undefined: unset). Returns {origin, log(), stop()}.
export async function start(keyring) {
  const port = await freePort()
  const env = envWithout('KEYCUSTODY_KEYRING')
  if (keyring !== undefined) env.KEYCUSTODY_KEYRING = keyring
  const child = spawn(process.execPath, [NEXT, 'start', '-H', '127.0.0.1', '-p', String(port)], { cwd: APP, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let log = ''
  child.stdout.on('data', (d) => (log += d))
  child.stderr.on('data', (d) => (log += d))
  const exited = new Promise((resolve) => child.once('exit', resolve))
  const origin = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 60_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`next start exited (${child.exitCode}):\n${log}`)
    try {
      await fetch(`${origin}/favicon-probe`)
      break
    } catch {
      if (Date.now() > deadline) throw new Error(`next start did not answer within 60 s:\n${log}`)
      await new Promise((r) => setTimeout(r, 100))
    }
  }
  return {
    origin,
    log: () => log,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM')
      await exited
    },
  }
}

export async function launchChromium() {
  const { chromium } = await import('playwright-core')
  let executablePath
  try {
    executablePath = execFileSync('which', ['chromium'], { encoding: 'utf8' }).trim()
  } catch {
    throw new Error('chromium is not installed (scripts/ensure-apt.sh chromium)')
  }
  const profile = await mkdtemp(path.join(tmpdir(), 'kc-nextjs-chromium-'))
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  })
  const page = context.pages()[0] ?? (await context.newPage())
  const errors = []
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`))
  page.on('console', (m) => m.type() === 'error' && errors.push(`console: ${m.text()} (${m.location().url})`))
  page.on('response', (r) => r.status() >= 400 && errors.push(`HTTP ${r.status()} ${r.url()}`))
  return {
    page,
    errors,
    close: async () => {
      await context.close()
      await rm(profile, { recursive: true, force: true })
    },
  }
}
