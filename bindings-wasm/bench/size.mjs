// bench-wasm-size: the shipped sizes (raw, gzip -9, brotli) of the main module (keycustody-wasm),
// of the scrub module (keycustody-wasm/scrub: scrub and its regex stack, out of the main module)
// and of the delivery module (keycustody-wasm/delivery), each beside its baseline measured in the
// same run: the same cargo build through wasm-bindgen only, with no wasm-opt and with the name
// section, which is what the package shipped before (1.79 MB, 631 kB gzipped). Then what each
// module is made of: its code by crate (and the main module's largest functions), from the
// baseline's name section, so that a missed goal says why.
// Usage: node bench/size.mjs [OUT.md]   (after build.sh; needs the wasm-bindgen CLI)
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { brotliCompressSync, constants } from 'node:zlib';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const PKG = fileURLToPath(new URL('..', import.meta.url));
const ROOT = path.dirname(PKG.replace(/\/$/, ''));
const TARGET = process.env.CARGO_TARGET_DIR ?? path.join(ROOT, 'target');
const out = process.argv[2] ?? path.join(ROOT, 'bench-out', 'wasm-size.md');
// The cargo profile build.sh builds the modules with (its output directory).
const PROFILE = process.env.KC_WASM_PROFILE ?? 'wasm';
// [crate's wasm name, shipped file under pkg/, label, gzip goal or null]
const MODULES = [
  ['keycustody_wasm', 'keycustody_wasm_bg.wasm', 'main (`keycustody-wasm`)', 300_000],
  ['keycustody_wasm_scrub', 'scrub/keycustody_wasm_scrub_bg.wasm', 'scrub (`keycustody-wasm/scrub`)', null],
  ['keycustody_wasm_delivery', 'delivery/keycustody_wasm_delivery_bg.wasm', 'delivery (`keycustody-wasm/delivery`)', 80_000],
];

// gzip(1) -9, as the figures were taken (node:zlib's level 9 comes out ~2 % larger).
const gz = (b) => execFileSync('gzip', ['-9', '-c'], { input: b, maxBuffer: 1 << 26 }).length;
const br = (b) => brotliCompressSync(b, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
const kB = (n) => `${(n / 1000).toFixed(1)} kB`;

/** Wasm sections: [[name, size]]. */
function sections(b) {
  let i = 8;
  const leb = () => {
    let r = 0;
    let s = 0;
    let x;
    do {
      x = b[i++];
      r += (x & 0x7f) * 2 ** s;
      s += 7;
    } while (x & 0x80);
    return r;
  };
  const ids = ['custom', 'type', 'import', 'function', 'table', 'memory', 'global', 'export', 'start', 'element', 'code', 'data', 'datacount'];
  const list = [];
  let nImported = 0;
  const bodies = [];
  const names = new Map();
  while (i < b.length) {
    const id = b[i++];
    const len = leb();
    const end = i + len;
    let name = ids[id] ?? String(id);
    if (id === 2) {
      const n = leb();
      for (let k = 0; k < n; k++) {
        for (let part = 0; part < 2; part++) {
          const l = leb();
          i += l;
        }
        const kind = b[i++];
        if (kind === 0) {
          leb();
          nImported++;
        } else if (kind === 1) {
          i++;
          const f = leb();
          leb();
          if (f & 1) leb();
        } else if (kind === 2) {
          const f = leb();
          leb();
          if (f & 1) leb();
        } else if (kind === 3) i += 2;
      }
    } else if (id === 10) {
      const n = leb();
      for (let k = 0; k < n; k++) {
        const l = leb();
        bodies.push(l);
        i += l;
      }
    } else if (id === 0) {
      const nl = leb();
      name = `custom "${b.subarray(i, i + nl).toString()}"`;
      i += nl;
      if (name === 'custom "name"') {
        while (i < end) {
          const sid = b[i++];
          const se = leb() + i;
          if (sid === 1) {
            const n = leb();
            for (let k = 0; k < n; k++) {
              const idx = leb();
              const l = leb();
              names.set(idx, b.subarray(i, i + l).toString());
              i += l;
            }
          }
          i = se;
        }
      }
    }
    list.push([name, len]);
    i = end;
  }
  return { list, bodies, names, nImported };
}

/** The crate a (mangled) function name belongs to: its path's first crate name. */
function crateOf(name) {
  if (!name) return '?';
  const legacy = name.match(/^_ZN(\d+)/);
  if (legacy) {
    const first = name.slice(legacy[0].length, legacy[0].length + Number(legacy[1]));
    // `<T as krate::Trait>` / `<krate::Type>`: the first crate path inside.
    if (first.startsWith('_$LT$')) return first.match(/([a-z][a-z0-9_]*)\.\./)?.[1] ?? '(impl)';
    return first;
  }
  // v0 mangling: the first crate root `C<disambiguator>_<len><name>` or `C<len><name>`.
  const v0 = name.match(/^_R[^C]*C(?:s[0-9a-zA-Z]*_)?(\d+)/);
  if (v0) {
    const at = v0.index + v0[0].length;
    return name.slice(at, at + Number(v0[1]));
  }
  // Demangled (wasm-bindgen's output): `krate::path::f`, `krate[hash]::path::f`,
  // `<T as krate::Trait>::f`.
  const demangled = name.match(/([a-z_][a-z0-9_]*)(?:\[[0-9a-f]+\])?::/);
  if (demangled) return demangled[1];
  // wasm-bindgen's export shims (`keyring_seal_<hash>`, or the export's own name such as
  // `auditchain_next`, `__keyringOpen`): the binding's.
  if (/_[0-9a-f]{16}$/.test(name) || /^[A-Za-z_$][\w$]*$/.test(name)) return '(export shims)';
  return '(other)';
}

function byCrate(wasm) {
  const { bodies, names, nImported } = sections(wasm);
  const agg = new Map();
  const fns = [];
  bodies.forEach((size, k) => {
    const name = names.get(k + nImported);
    const c = crateOf(name);
    agg.set(c, (agg.get(c) ?? 0) + size);
    fns.push([name ?? `#${k + nImported}`, size]);
  });
  const total = bodies.reduce((a, b) => a + b, 0);
  return { total, rows: [...agg].sort((a, b) => b[1] - a[1]), fns: fns.sort((a, b) => b[1] - a[1]) };
}

// A function's name without its hash suffixes, for the table.
const shortName = (n) => n.replace(/\[[0-9a-f]+\]/g, '').replace(/::h[0-9a-f]{16}$/, '');

const tmp = mkdtempSync(path.join(tmpdir(), 'kc-wasm-size-'));
const lines = [
  '## wasm sizes (keycustody-wasm)',
  '',
  'The shipped `.wasm` files (wasm-opt from npm binaryen, no name section; `bindings-wasm/build.sh`),',
  'each beside its baseline from the same cargo build in the same run: wasm-bindgen output only, no',
  'wasm-opt, with the name section (what the package shipped before). gzip -9 and brotli 11 as a',
  'server would send them. The inline entries embed the same bytes as base64 in a JS module.',
  '`scrub` is in its own module (`keycustody-wasm/scrub`), so the main module carries no regex;',
  'a page that uses both downloads both (the "main + scrub" row: the two files, each compressed).',
  '',
  '| module | shipped raw | shipped gzip | shipped brotli | baseline raw | baseline gzip | goal (gzip) |',
  '|---|---|---|---|---|---|---|',
];
const verdicts = [];
const baselines = {};
const shippedOf = {};
try {
  for (const [name, file, label, goal] of MODULES) {
    const raw = path.join(TARGET, 'wasm32-unknown-unknown', PROFILE, `${name}.wasm`);
    execFileSync('wasm-bindgen', ['--target', 'web', '--out-dir', tmp, '--out-name', name, raw]);
    const base = readFileSync(path.join(tmp, `${name}_bg.wasm`));
    const ours = readFileSync(path.join(PKG, 'pkg', file));
    const inline = readFileSync(path.join(PKG, 'pkg', file.replace(/_bg\.wasm$/, '_inline.js')));
    let verdict = '—';
    if (goal !== null) {
      const met = gz(ours) <= goal;
      verdicts.push(met);
      verdict = `≤ ${kB(goal)} ${met ? '(met)' : '(NOT met)'}`;
    }
    lines.push(
      `| ${label} | ${kB(ours.length)} | ${kB(gz(ours))} | ${kB(br(ours))} | ${kB(base.length)} | ${kB(gz(base))} | ${verdict} |`,
    );
    lines.push(`| ${label}, inline JS (base64) | ${kB(inline.length)} | ${kB(gz(inline))} | ${kB(br(inline))} | | | |`);
    baselines[name] = base;
    shippedOf[name] = ours;
  }
  const [m, sc] = [shippedOf.keycustody_wasm, shippedOf.keycustody_wasm_scrub];
  const [bm, bs] = [baselines.keycustody_wasm, baselines.keycustody_wasm_scrub];
  lines.push(
    `| main + scrub (a page that uses both) | ${kB(m.length + sc.length)} | ${kB(gz(m) + gz(sc))} | ${kB(br(m) + br(sc))} | ${kB(bm.length + bs.length)} | ${kB(gz(bm) + gz(bs))} | |`,
  );
  const shippedMain = sections(m).list;
  lines.push('', 'Sections of the shipped main module:', '', '| section | bytes |', '|---|---|');
  for (const [n, s] of shippedMain) lines.push(`| ${n} | ${s} |`);
  for (const [name, , label] of MODULES) {
    const { total, rows, fns } = byCrate(baselines[name]);
    lines.push(
      '',
      `Code of the ${label} module by crate (its baseline, i.e. before wasm-opt: ${kB(total)} of code, ${kB(sections(baselines[name]).list.find(([n]) => n === 'data')?.[1] ?? 0)} of data; from its name section; after LTO a function inlined into another counts for the caller's crate):`,
      '',
      '| crate | code bytes | share |',
      '|---|---|---|',
    );
    for (const [c, s] of rows.slice(0, 15)) lines.push(`| ${c} | ${s} | ${((100 * s) / total).toFixed(1)} % |`);
    if (name === 'keycustody_wasm') {
      lines.push('', 'Its largest functions:', '', '| function | code bytes |', '|---|---|');
      for (const [n, s] of fns.slice(0, 12)) lines.push(`| \`${shortName(n).slice(0, 110)}\` | ${s} |`);
    }
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
lines.push('');
writeFileSync(out, lines.join('\n'));
console.log(lines.join('\n'));
if (verdicts.includes(false)) console.log('wasm-size: a size goal is NOT met (reported above, with what the module is made of)');
