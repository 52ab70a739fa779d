// The README's keycustody-wasm Node blocks run as written in a fresh project: in an empty
// directory, with no KEYCUSTODY_KEYRING in the environment, the ```sh block (its
// `npm install keycustody-wasm` installs the tarball of the package built here, not the
// registry's), then the ```js block, which prints what its comments say.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync, mkdirSync, rmSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const PKG = fileURLToPath(new URL('..', import.meta.url));

test("the README's Node blocks run as written in a fresh project and print what their comments say", () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  // The quickstart's blocks: the wasm section up to "Loading keycustody-wasm" (whose per-bundler
  // snippets are checked by test/matrix).
  const section = readme.split('<!-- BEGIN wasm -->')[1].split('<!-- END wasm -->')[0].split('### Loading keycustody-wasm')[0];
  const blocks = [...section.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);
  assert.equal(blocks.length, 1);
  const sh = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]).find((b) => /npm install keycustody-wasm/.test(b));
  assert.ok(sh, 'the section has the ```sh block that installs the package');
  assert.match(sh, /^npm install keycustody-wasm$/m);
  assert.match(sh, /^export KEYCUSTODY_KEYRING=/m, 'the section shows how to make KEYCUSTODY_KEYRING');
  const dir = mkdtempSync(path.join(tmpdir(), 'kc-wasm-readme-'));
  try {
    const pack = spawnSync('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: PKG, encoding: 'utf8' });
    assert.equal(pack.status, 0, pack.stderr);
    const tarball = path.join(dir, pack.stdout.trim().split('\n').pop());
    const app = path.join(dir, 'app');
    mkdirSync(app);
    writeFileSync(path.join(app, 'package.json'), '{"name":"readme-app","private":true,"type":"module"}\n');
    writeFileSync(path.join(app, 'snippet.mjs'), blocks[0]);
    // After the snippet: the keyring the one command made parses, and the package came from node_modules.
    writeFileSync(
      path.join(app, 'check.mjs'),
      `import { Keyring } from 'keycustody-wasm';
import { createRequire } from 'node:module';
const kr = Keyring.parse(process.env.KEYCUSTODY_KEYRING);
console.log(JSON.stringify({ primary: kr.primaryKid, opens: kr.openText('t', kr.seal('t', 'ok')),
  from: createRequire(import.meta.url).resolve('keycustody-wasm/package.json') }));`,
    );
    const script = sh.replace(/^npm install keycustody-wasm$/m, `npm install --no-audit --no-fund --offline --silent ${JSON.stringify(tarball)}`);
    const env = { PATH: process.env.PATH, HOME: dir }; // a fresh environment: no KEYCUSTODY_KEYRING
    const r = spawnSync('bash', ['-euo', 'pipefail', '-c', `${script}\nnode snippet.mjs\nnode check.mjs`], { cwd: app, env, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const lines = r.stdout.trim().split('\n');
    const want = [...blocks[0].matchAll(/console\.log\(.*\/\/ (.*)$/gm)].map((m) => m[1]);
    assert.equal(want.length, 4);
    assert.deepEqual(lines.slice(0, -1), want);
    const check = JSON.parse(lines.at(-1));
    assert.deepEqual({ ...check, from: realpathSync(check.from) }, {
      primary: 1,
      opens: 'ok',
      from: realpathSync(path.join(app, 'node_modules', 'keycustody-wasm', 'package.json')),
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
