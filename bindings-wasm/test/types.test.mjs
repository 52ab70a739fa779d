// The generated TypeScript declarations: `tsc --strict` compiles types-check.ts, which uses
// every export with its documented types and expects errors for wrong ones; and every
// runtime export is named in that file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as kc from '../node.js';
import { exportedNames } from '../../tests/js/suite/garbage.mjs';

const manifest = JSON.parse(readFileSync(new URL('../../tests/api.json', import.meta.url), 'utf8'));
const glue = new Set(manifest.runtime_only.wasm.map((r) => r.name));

const dir = fileURLToPath(new URL('..', import.meta.url));

test('index.d.ts types every export (tsc --strict)', () => {
  const r = spawnSync(
    process.execPath,
    [
      'node_modules/typescript/bin/tsc', '--noEmit', '--strict', '--target', 'es2022',
      '--module', 'nodenext', '--moduleResolution', 'nodenext', '--lib', 'es2022,esnext.disposable,dom',
      'test/types-check.ts',
    ],
    { cwd: dir, encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

test('types-check.ts uses every runtime export', () => {
  const src = readFileSync(new URL('types-check.ts', import.meta.url), 'utf8');
  const missing = exportedNames(kc, glue)
    .map((n) => n.replace(/^new /, '').split(/[.#]/).pop())
    .filter((n) => !new RegExp(`\\b${n}\\(`).test(src) && !new RegExp(`new ${n}\\(`).test(src));
  assert.deepEqual(missing, []);
});
