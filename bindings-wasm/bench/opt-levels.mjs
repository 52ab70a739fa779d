// Compares builds of the same module (e.g. no wasm-opt, -O3, -Oz) for seal/open speed, in one
// Node process, interleaved round by round so that a loaded machine slows all of them alike:
// each file gets its own instance of the generated glue (a separate module URL) and the
// generated Keyring's seal/open (the same path for every build). Time is this process's CPU time
// (process.cpuUsage), not the wall clock, so that other processes on a shared machine count
// less. Used to choose build.sh's wasm-opt level.
// Usage: node bench/opt-levels.mjs NAME=FILE.wasm ...
import { readFileSync } from 'node:fs';

const variants = [];
for (const [i, arg] of process.argv.slice(2).entries()) {
  const [name, file] = arg.split('=');
  const glue = await import(new URL(`../pkg/keycustody_wasm.js?variant=${i}`, import.meta.url).href);
  glue.initSync({ module: readFileSync(file) });
  variants.push({ name, glue, size: readFileSync(file).length });
}

const small = new Uint8Array(64).fill(7);
const big = new Uint8Array(1 << 20).fill(7);
const cpu = () => { const u = process.cpuUsage(); return u.user + u.system; }; // µs
const ops = {
  'seal 64 B': (kr) => { const n = 2000; const t = cpu(); for (let i = 0; i < n; i++) kr.seal('t', small); return (cpu() - t) / n; },
  'open 64 B': (kr, env) => { const n = 2000; const t = cpu(); for (let i = 0; i < n; i++) kr.open('t', env); return (cpu() - t) / n; },
  'seal 1 MiB': (kr) => { const n = 3; const t = cpu(); for (let i = 0; i < n; i++) kr.seal('t', big); return (cpu() - t) / n; },
};
const samples = {};
for (const v of variants) {
  v.kr = v.glue.Keyring.generate();
  v.env = v.kr.seal('t', small);
  samples[v.name] = Object.fromEntries(Object.keys(ops).map((k) => [k, []]));
}
for (let round = 0; round < 15; round++) {
  for (const v of round % 2 ? [...variants].reverse() : variants) {
    for (const [k, f] of Object.entries(ops)) samples[v.name][k].push(f(v.kr, v.env));
  }
}
const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
const first = variants[0].name;
console.log(`| build | raw bytes | ${Object.keys(ops).join(' | ')} |`);
console.log(`|---|---|${Object.keys(ops).map(() => '---').join('|')}|`);
for (const v of variants) {
  const cells = Object.keys(ops).map((k) => {
    const m = median(samples[v.name][k]);
    const rel = m / median(samples[first][k]);
    return `${m.toFixed(2)} µs (${rel.toFixed(3)}×)`;
  });
  console.log(`| ${v.name} | ${v.size} | ${cells.join(' | ')} |`);
}
