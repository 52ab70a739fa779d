// make bench-nextjs: the p50 (and p90) latency of one seal + open request to a Next.js route
// served by `next start` (Turbopack build), with keycustody against the same route doing
// node:crypto by hand (HKDF-SHA256 + AES-256-GCM), beside a route with no cryptography.
// Requests are sequential over keep-alive (plain fetch loop). Report only: never a test.
import { writeFileSync } from 'node:fs'
import { Keyring } from 'keycustody'
import { build, start } from '../test/server.mjs'

const out = process.argv[2] ?? 'nextjs.md'
const N = Number(process.env.KC_BENCH_NEXTJS_N ?? 2000)
const WARMUP = 300

const built = build('turbopack')
if (built.status !== 0) throw new Error(`next build failed:\n${built.output}`)
const app = await start(Keyring.generate().export())

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
  for (const [r, xs] of Object.entries(results)) rows.push({ route: r, p50: med(xs, 'p50'), p90: med(xs, 'p90') })
} finally {
  await app.stop()
}

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
  `Sequential requests over keep-alive from a Node fetch loop to \`next start\` (Next.js 16, Turbopack build) on 127.0.0.1; ${N} timed requests after ${WARMUP} warm-up, 3 interleaved rounds, median of the rounds. Node ${process.version}.`,
  '',
  '| route | p50 | p90 | p50 vs node:crypto | p50 over no-crypto route |',
  '|---|---:|---:|---:|---:|',
  ...rows.map((r) => `| ${label[r.route]} | ${r.p50.toFixed(0)} µs | ${r.p90.toFixed(0)} µs | ${(r.p50 / base).toFixed(2)}x | ${(r.p50 - noop).toFixed(0)} µs |`),
  '',
]
writeFileSync(out, lines.join('\n'))
console.log(lines.join('\n'))
