// The README's keycustody-wasm Node snippet runs as written and prints what its comments say.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

test("the README's Node snippet runs and prints what its comments say", () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const section = readme.split('<!-- BEGIN wasm -->')[1].split('<!-- END wasm -->')[0];
  const blocks = [...section.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);
  assert.equal(blocks.length, 1);
  // Inside the package directory, so that "keycustody-wasm" resolves to this package.
  const file = new URL(`../.readme-snippet-${process.pid}.mjs`, import.meta.url);
  writeFileSync(file, blocks[0]);
  try {
    const r = spawnSync(process.execPath, [file.pathname], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const want = [...blocks[0].matchAll(/console\.log\(.*\/\/ (.*)$/gm)].map((m) => m[1]);
    assert.equal(want.length, 4);
    assert.deepEqual(r.stdout.trim().split('\n'), want);
  } finally {
    rmSync(file, { force: true });
  }
});
