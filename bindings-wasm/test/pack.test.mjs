// The npm package as a user gets it: `npm pack`, install the tarball into an empty project,
// import it by name (ESM and require) and use it; the tarball holds the package and nothing else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const PKG = fileURLToPath(new URL('..', import.meta.url));

function run(cmd, args, cwd) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

test('npm pack, install the tarball in an empty project, import it by name', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'kc-wasm-pack-'));
  try {
    const [info] = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', dir], PKG));
    // The inline JS of src/lib.rs (kc_envelope_text) is a snippet file under a hashed name.
    const files = info.files.map((f) => f.path.replace(/^pkg\/snippets\/keycustody-wasm-[0-9a-f]+\//, 'pkg/snippets/*/')).sort();
    assert.deepEqual(files, [
      'README.md', 'base64.js', 'delivery.d.ts', 'delivery.js', 'index.d.ts', 'index.js', 'init.js',
      'inline.js', 'keyring.js', 'node.js', 'package.json',
      'pkg/delivery/keycustody_wasm_delivery.d.ts', 'pkg/delivery/keycustody_wasm_delivery.js',
      'pkg/delivery/keycustody_wasm_delivery_bg.wasm', 'pkg/delivery/keycustody_wasm_delivery_inline.js',
      'pkg/keycustody_wasm.d.ts', 'pkg/keycustody_wasm.js', 'pkg/keycustody_wasm_bg.wasm',
      'pkg/keycustody_wasm_bg.wasm.d.ts', 'pkg/keycustody_wasm_inline.js',
      'pkg/scrub/keycustody_wasm_scrub.d.ts', 'pkg/scrub/keycustody_wasm_scrub.js',
      'pkg/scrub/keycustody_wasm_scrub_bg.wasm', 'pkg/scrub/keycustody_wasm_scrub_inline.js',
      'pkg/snippets/*/inline0.js', 'scrub-inline.js', 'scrub.d.ts', 'scrub.js', 'wasm.d.ts',
    ]);
    const app = path.join(dir, 'app');
    run('mkdir', ['-p', app], dir);
    writeFileSync(path.join(app, 'package.json'), '{"name":"app","private":true,"type":"module"}');
    run('npm', ['install', '--no-audit', '--no-fund', '--offline', path.join(dir, info.filename)], app);
    writeFileSync(
      path.join(app, 'esm.mjs'),
      `import init, { Keyring } from 'keycustody-wasm';
import initScrub, { scrub } from 'keycustody-wasm/scrub';
await init();
await initScrub();
const kr = Keyring.generate();
console.log(kr.openText('t', kr.seal('t', 'packed')), kr instanceof Keyring, scrub('Authorization: Bearer abc.def'));`,
    );
    assert.equal(run(process.execPath, ['esm.mjs'], app).trim(), 'packed true Authorization: [REDACTED:authorization]');
    writeFileSync(
      path.join(app, 'cjs.cjs'),
      `const { inspect, Keyring } = require('keycustody-wasm');
const { scrub } = require('keycustody-wasm/scrub');
console.log(inspect(Keyring.generate().seal('t', 'abc')).plaintextLen, scrub('x-api-key: sk-0123456789abcdef0123'));`,
    );
    const [major, minor] = process.versions.node.split('.').map(Number);
    if (major > 22 || (major === 22 && minor >= 12) || (major === 20 && minor >= 19)) {
      assert.equal(run(process.execPath, ['cjs.cjs'], app).trim(), '3 x-api-key: [REDACTED:api_key]');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
