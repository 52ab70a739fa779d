// bench-wasm: runs bench.mjs in Node and in headless Chromium and writes the Markdown section
// (default ../bench-out/wasm.md). Usage: node bench/run.mjs [OUT.md]
import { writeFileSync } from 'node:fs';
import * as kc from '../node.js';
import { runBench, BATCH } from './bench.mjs';
import { startServer, launchChromium } from '../test/support.mjs';

const out = process.argv[2] ?? new URL('../../bench-out/wasm.md', import.meta.url).pathname;
// wasm at least 5x faster than an awaited WebCrypto call for small values: issue 12's goal with
// RustCrypto `aes-gcm` (the 10x of issue 3 was met with a private software AES-GCM, since removed).
const GOAL_SMALL = 5;

const { rows: node, overhead: nodeOverhead } = await runBench(kc);
const server = await startServer();
const browser = await launchChromium();
let chromium;
let chromiumOverhead;
let ua;
try {
  await browser.page.goto(`${server.origin}/harness.html`);
  ({ rows: chromium, overhead: chromiumOverhead, ua } = await browser.page.evaluate(async () => {
    const kc = await import('keycustody-wasm');
    await kc.default();
    const { runBench } = await import('/bench/bench.mjs');
    return { ...(await runBench(kc)), ua: navigator.userAgent };
  }));
} finally {
  await browser.close();
  await server.close();
}

const fmt = (us) => (us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${us.toFixed(2)} µs`);
const lines = [
  '## wasm (keycustody-wasm)',
  '',
  'keycustody-wasm (RustCrypto AES-GCM in software, wasm32) against kc1 written on WebCrypto',
  '(`crypto.subtle`: HKDF deriveKey + AES-GCM on every call, each awaited; its envelopes open with',
  'keycustody-wasm, so both produce the same bytes). Same run, same machine; time per operation,',
  'the median of 5 samples after a warm-up, measured the same way on both sides.',
  `Node ${process.version}; Chromium: ${ua.match(/Chrome\/[\d.]+/)?.[0] ?? ua}.`,
  '',
  '| runtime | operation | keycustody-wasm | WebCrypto (baseline) | speed-up | goal |',
  '|---|---|---|---|---|---|',
];
const verdicts = [];
for (const [runtime, rows] of [['Node', node], ['Chromium', chromium]]) {
  for (const r of rows) {
    const ratio = r.base / r.ours;
    let goal = 'none (reported)';
    if (r.what.includes('no cached key')) {
      goal = 'none (reported: the cost of a first call for an owner)';
    } else if (r.what.includes('64 B')) {
      goal = `≥ ${GOAL_SMALL}× ${ratio >= GOAL_SMALL ? '(met)' : '(NOT met)'}`;
      verdicts.push(ratio >= GOAL_SMALL);
    } else {
      goal = 'none: WebCrypto uses the CPU\'s AES instructions, wasm cannot';
    }
    lines.push(`| ${runtime} | ${r.what} | ${fmt(r.ours)} | ${fmt(r.base)} | ${ratio.toFixed(2)}× | ${goal} |`);
  }
}
lines.push(
  '',
  'Small values are what keycustody seals (API keys, tokens): there each WebCrypto call pays',
  'for a promise and a trip to another thread. A wasm call runs synchronously; its cost is the',
  'AES-256-GCM of RustCrypto\'s `aes-gcm` crate (fixsliced AES, constant-time portable GHASH;',
  'no private copy of either, see ASSURANCE.md §7), the crossing into wasm (`keyring.js` checks argument types in JS and,',
  'for a small call, writes the arguments into the module\'s scratch region, whose entries take only',
  'their lengths; the envelope text is built with `Uint8Array.prototype.toBase64` where the',
  'engine has it) and, for an owner not seen recently, the HKDF derivation and key expansion: each',
  'root key keeps the expanded ciphers of its 16 most recently used owners (wiped when evicted or',
  'when the key is retired), and each nonce is one `getRandomValues` call, drawn when it is',
  'needed. The "new owner each call" row defeats that cache. For bulk data',
  'WebCrypto has AES-NI/VAES, which wasm cannot reach; the native `keycustody` package (ring)',
  'is the choice for large payloads on a server. Figures depend on machine load (both sides',
  'are measured back to back).',
  '',
  '### Per-call overhead (binding call minus core call, 64 B)',
  '',
  'The binding call is the package\'s `Keyring.seal` / `open` (same key, owner, context and',
  'size as above); the core call is core\'s `Keyring::seal` / `open` on the same arguments,',
  `run ${BATCH} times inside the module per crossing by the internal \`__benchCoreCalls\` (so it`,
  'includes what core itself costs in wasm: the nonce\'s `getRandomValues`, the AES-GCM); the',
  'two timed in alternating samples (15 of each, medians), so that a change in load shifts both.',
  'The difference is the crossing: `keyring.js` writing the arguments into the module\'s scratch',
  'region (its small path), the call, and the result\'s JS string or `Uint8Array` made from there.',
  '',
  '| runtime | call | binding | core | overhead | goal |',
  '|---|---|---|---|---|---|',
);
const fmtNs = (us) => (Math.abs(us) >= 1 ? `${us.toFixed(2)} µs` : `${Math.round(us * 1000)} ns`);
for (const [runtime, rows] of [['Node', nodeOverhead], ['Chromium', chromiumOverhead]]) {
  for (const r of rows) {
    const d = r.binding - r.core;
    const met = d <= 0.5;
    verdicts.push(met);
    lines.push(`| ${runtime} | ${r.what} | ${fmtNs(r.binding)} | ${fmtNs(r.core)} | ${fmtNs(d)} | ≤ 0.5 µs ${met ? '(met)' : '(NOT met)'} |`);
  }
}
lines.push('');
writeFileSync(out, lines.join('\n'));
console.log(lines.join('\n'));
if (verdicts.includes(false)) console.log('note: a goal was not met (see the table)');
