// make bench-nextjs: the p50 (and p90) latency of one seal + open request to a Next.js route
// served by `next start` (Turbopack build), with keycustody against the same route doing
// node:crypto by hand (HKDF-SHA256 + AES-256-GCM), beside a route with no cryptography.
// Requests are sequential over keep-alive (plain fetch loop). Report only: never a test.
import { writeFileSync, readFileSync } from 'node:fs'
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto'
import { Keyring } from 'keycustody'
import { build, start } from '../test/server.mjs'

const out = process.argv[2] ?? 'nextjs.md'
const N = Number(process.env.KC_BENCH_NEXTJS_N ?? 2000)
const WARMUP = 300

const built = build('turbopack')
if (built.status !== 0) throw new Error(`next build failed:\n${built.output}`)
const keyringText = Keyring.generate().export()
const app = await start(keyringText)

// The same two jobs in this process, without HTTP: what the routes' cryptography costs.
// nodeCrypto is app/api/bench/node-crypto/route.ts's body.
const root = randomBytes(32)
function nodeCrypto(tenant, value) {
  const key = Buffer.from(hkdfSync('sha256', root, Buffer.alloc(0), `kc/${tenant}`, 32))
  const nonce = randomBytes(12)
  const c = createCipheriv('aes-256-gcm', key, nonce)
  c.setAAD(Buffer.from('openrouter_key'))
  const body = Buffer.concat([c.update(value, 'utf8'), c.final()])
  const sealed = `nc1.${Buffer.concat([nonce, body, c.getAuthTag()]).toString('base64url')}`
  const raw = Buffer.from(sealed.slice(4), 'base64url')
  const d = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12))
  d.setAAD(Buffer.from('openrouter_key'))
  d.setAuthTag(raw.subarray(raw.length - 16))
  return Buffer.concat([d.update(raw.subarray(12, raw.length - 16)), d.final()]).toString('utf8')
}
const kr = Keyring.parse(keyringText)
const inProcess = {
  'node-crypto': (t, v) => nodeCrypto(t, v),
  keycustody: (t, v) => kr.openText(t, kr.seal(t, v, 'openrouter_key'), 'openrouter_key'),
}
function perCall(fn) {
  const v = 'sk-or-v1-0123456789abcdef0123456789abcdef'
  for (let i = 0; i < 2000; i++) fn('tenant-42', v)
  const runs = []
  for (let r = 0; r < 5; r++) {
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < 10000; i++) if (fn('tenant-42', v) !== v) throw new Error('round trip failed')
    runs.push(Number(process.hrtime.bigint() - t0) / 1000 / 10000)
  }
  return runs.sort((a, b) => a - b)[2]
}

async function run(route) {
  const body = JSON.stringify({ tenant: 'tenant-42', value: 'sk-or-v1-0123456789abcdef0123456789abcdef' })
  const times = []
  for (let i = 0; i < WARMUP + N; i++) {
    const t0 = process.hrtime.bigint()
    const res = await fetch(`${app.origin}/api/bench/${route}`, { method: 'POST', body, headers: { 'content-type': 'application/json' } })
    const r = await res.json()
    const dt = Number(process.hrtime.bigint() - t0) / 1000
    if (!r.ok) throw new Error(`${route}: ${JSON.stringify(r)}`)
    if (i >= WARMUP) times.push(dt)
  }
  times.sort((a, b) => a - b)
  return { p50: times[Math.floor(times.length / 2)], p90: times[Math.floor(times.length * 0.9)] }
}

const rows = []
try {
  // Interleaved rounds so that machine load hits every route alike; the median of the rounds.
  const results = { noop: [], 'node-crypto': [], keycustody: [] }
  for (let round = 0; round < 3; round++) for (const r of Object.keys(results)) results[r].push(await run(r))
  const med = (xs, k) => xs.map((x) => x[k]).sort((a, b) => a - b)[1]
  for (const [r, xs] of Object.entries(results)) rows.push({ route: r, p50: med(xs, 'p50'), p90: med(xs, 'p90'), call: inProcess[r] ? perCall(inProcess[r]) : undefined })
} finally {
  await app.stop()
}

const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')
const base = rows.find((r) => r.route === 'node-crypto').p50
const noop = rows.find((r) => r.route === 'noop').p50
const label = {
  noop: 'no cryptography (JSON in, JSON out)',
  'node-crypto': 'node:crypto by hand (HKDF + AES-256-GCM seal, then open)',
  keycustody: 'keycustody (`keyring.seal` + `keyring.openText`)',
}
const lines = [
  '## Next.js route (next start, Node runtime): one seal + open per request',
  '',
  `Sequential requests over keep-alive from a Node fetch loop to \`next start\` (Next.js 16, Turbopack build) on 127.0.0.1; ${N} timed requests after ${WARMUP} warm-up, 3 interleaved rounds, median of the rounds; "in process" is the same seal + open called directly (median of 5 runs of 10,000). Node ${process.version}; load average at the end ${load}. Report only.`,
  '',
  '| route | p50 | p90 | p50 vs node:crypto | p50 over no-crypto route | in process, per seal + open |',
  '|---|---:|---:|---:|---:|---:|',
  ...rows.map((r) => `| ${label[r.route]} | ${r.p50.toFixed(0)} µs | ${r.p90.toFixed(0)} µs | ${(r.p50 / base).toFixed(2)}x | ${(r.p50 - noop).toFixed(0)} µs | ${r.call === undefined ? '–' : `${r.call.toFixed(1)} µs`} |`),
  '',
]
writeFileSync(out, lines.join('\n'))
console.log(lines.join('\n'))
