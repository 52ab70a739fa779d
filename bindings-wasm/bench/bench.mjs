// The wasm benchmark body: keycustody-wasm seal vs a WebCrypto kc1 seal (HKDF + AES-256-GCM
// per call through crypto.subtle, awaited). No Node imports: runs in Node and in a page.
import * as wc from '../test/webcrypto-kc1.mjs';

const enc = new TextEncoder();

// Each figure: a warm-up of half the measuring time (so that the engine has tiered the hot
// wasm functions up to its optimising compiler; V8 starts them in its baseline compiler),
// then SAMPLES samples that share the other half; the median sample is reported. Ours and the
// baseline are measured the same way.
const SAMPLES = 5;

// One sample: µs per call of `fn` over at least `ms` milliseconds.
function sample(fn, ms) {
  let n = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < ms) {
    for (let i = 0; i < 10; i++) fn();
    n += 10;
    t = performance.now();
  }
  return ((t - t0) * 1000) / n;
}

function timeSync(fn, minMs) {
  for (const end = performance.now() + minMs / 2; performance.now() < end; ) fn();
  const samples = [];
  for (let s = 0; s < SAMPLES; s++) samples.push(sample(fn, minMs / 2 / SAMPLES));
  return median(samples);
}

// Two calls measured in alternating samples (a, b, a, b, ...: ROUNDS of each), so that a change
// in the machine's load during the measurement shifts both alike; [median of a, median of b].
// For the overhead rows, whose figure is a small difference between the two.
const ROUNDS = 15;
function timeAlternating(fa, fb, minMs) {
  for (const end = performance.now() + minMs / 4; performance.now() < end; ) fa();
  for (const end = performance.now() + minMs / 4; performance.now() < end; ) fb();
  const a = [];
  const b = [];
  for (let r = 0; r < ROUNDS; r++) {
    a.push(sample(fa, minMs / 4 / ROUNDS));
    b.push(sample(fb, minMs / 4 / ROUNDS));
  }
  return [median(a), median(b)];
}

async function timeAsync(fn, minMs) {
  for (const end = performance.now() + minMs / 2; performance.now() < end; ) await fn();
  const samples = [];
  for (let s = 0; s < SAMPLES; s++) {
    let n = 0;
    const t0 = performance.now();
    let t = t0;
    while (t - t0 < minMs / 2 / SAMPLES) {
      for (let i = 0; i < 10; i++) await fn();
      n += 10;
      t = performance.now();
    }
    samples.push(((t - t0) * 1000) / n);
  }
  return median(samples);
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Core calls per crossing in the overhead rows' core side. */
export const BATCH = 100;

/** Runs every figure; returns {rows: [{what, ours, base}], overhead: [{what, binding, core}]}, µs per op. */
export async function runBench(kc, { minMs = 1600 } = {}) {
  const root = crypto.getRandomValues(new Uint8Array(32));
  const kr = kc.Keyring.fromSecret(root, 1);
  const rootKey = await wc.importRoot(root);
  const ctx = enc.encode('openrouter_key');
  const small = crypto.getRandomValues(new Uint8Array(64));
  const mib = new Uint8Array(1 << 20);
  for (let o = 0; o < mib.length; o += 65536) crypto.getRandomValues(mib.subarray(o, o + 65536));
  // The baseline does the same work: its envelope opens with keycustody-wasm.
  const check = await wc.seal(rootKey, 1, 'tenant-42', small, ctx);
  if (kr.open('tenant-42', check, ctx).length !== 64) throw new Error('baseline is not kc1');
  const rows = [];
  rows.push({
    what: 'seal 64 B, same owner again',
    ours: timeSync(() => kr.seal('tenant-42', small, ctx), minMs),
    base: await timeAsync(() => wc.seal(rootKey, 1, 'tenant-42', small, ctx), minMs),
  });
  // A new owner on every call (64 owners in turn, more than the 16 whose expanded ciphers a
  // root key keeps): every call derives and expands its key, as the first call for an owner does.
  const owners = Array.from({ length: 64 }, (_, i) => `tenant-${i}`);
  let next = 0;
  const owner = () => owners[(next = (next + 1) % owners.length)];
  rows.push({
    what: 'seal 64 B, a new owner each call (no cached key)',
    ours: timeSync(() => kr.seal(owner(), small, ctx), minMs),
    base: await timeAsync(() => wc.seal(rootKey, 1, owner(), small, ctx), minMs),
  });
  const env64 = kr.seal('tenant-42', small, ctx);
  rows.push({
    what: 'open 64 B, same owner again',
    ours: timeSync(() => kr.open('tenant-42', env64, ctx), minMs),
    base: await timeAsync(() => wc.open(rootKey, 'tenant-42', env64, ctx), minMs),
  });
  rows.push({
    what: 'seal 1 MiB',
    ours: timeSync(() => kr.seal('tenant-42', mib, ctx), minMs),
    base: await timeAsync(() => wc.seal(rootKey, 1, 'tenant-42', mib, ctx), minMs),
  });
  const envMib = kr.seal('tenant-42', mib, ctx);
  rows.push({
    what: 'open 1 MiB',
    ours: timeSync(() => kr.open('tenant-42', envMib, ctx), minMs),
    base: await timeAsync(() => wc.open(rootKey, 'tenant-42', envMib, ctx), minMs),
  });
  // Per-call overhead: the binding call minus core's own call on the same arguments, run
  // `BATCH` times inside the module by the internal `__benchCoreCalls` (one crossing per
  // batch), the two measured in alternating samples.
  const overhead = [];
  for (const [what, op, call] of [
    ['seal 64 B', 0, () => kr.seal('tenant-42', small, ctx)],
    ['open 64 B', 1, () => kr.open('tenant-42', env64, ctx)],
  ]) {
    const core = () => kc.__benchCoreCalls(kr, op, 'tenant-42', small, env64, ctx, BATCH);
    const [binding, batch] = timeAlternating(call, core, 2 * minMs);
    overhead.push({ what, binding, core: batch / BATCH });
  }
  return { rows, overhead };
}
