// keycustody-wasm/scrub: `scrub` in its own wasm module, with the regex stack the full module no
// longer carries. Its behaviour is checked by the shared JS suite (scrub_v1.json vectors, garbage,
// platform), which takes `scrub` from this module in Node and in Chromium; here: what the module
// exports, that its two entries are the same function, its errors, and that the regex stack is
// in this module and not in the full one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as inline from '../scrub-inline.js';
import * as browser from '../scrub.js';
import * as full from '../node.js';

const wasmOf = (rel) => readFileSync(new URL(rel, import.meta.url));
const fullWasm = wasmOf('../pkg/keycustody_wasm_bg.wasm');
const scrubWasm = wasmOf('../pkg/scrub/keycustody_wasm_scrub_bg.wasm');
// The panic locations regex-automata and regex-syntax compile into any module that links them.
const hasRegex = (bytes) => bytes.includes('regex-automata-') || bytes.includes('regex-syntax-');

test('exports scrub, initSync and init only; the full package has no scrub', async () => {
  assert.deepEqual(Object.keys(inline).sort(), ['default', 'initSync', 'scrub']);
  assert.deepEqual(Object.keys(browser).sort(), ['default', 'initSync', 'scrub']);
  assert.ok((await inline.default()).memory instanceof WebAssembly.Memory);
  assert.equal('scrub' in full, false);
});

test('redacts, and leaves text without a secret shape as it is', () => {
  const key = `sk-ant-api03-${'x'.repeat(90)}AA`;
  const out = inline.scrub(`Authorization: Bearer ${key}`);
  assert.ok(!out.includes(key) && out.includes('[REDACTED:'), out);
  assert.equal(inline.scrub('nothing to hide'), 'nothing to hide');
  const api = full.generateApiKey('obee').key;
  assert.ok(!inline.scrub(`key=${api}`).includes(api));
});

test('a wrong argument is the typed KC_INVALID_ARGUMENT of the full package, never echoed', () => {
  for (const bad of [undefined, 42, { toString: () => 'sk-secret-marker' }, new Uint8Array(2)]) {
    assert.throws(() => inline.scrub(bad), (e) => {
      assert.equal(e.name, 'KeycustodyError');
      assert.equal(e.code, 'KC_INVALID_ARGUMENT');
      assert.equal(e.argument, 'text');
      assert.ok(!e.message.includes('sk-secret-marker'));
      return true;
    });
  }
  assert.throws(() => inline.scrub('\ud800'), (e) => e.code === 'KC_MALFORMED');
});

test('the regex stack is in the scrub module only; both are optimised, without a name section', () => {
  assert.ok(hasRegex(scrubWasm), 'the scrub module links regex');
  assert.ok(!hasRegex(fullWasm), 'the full module links no regex crate');
  const names = (bytes) => WebAssembly.Module.customSections(new WebAssembly.Module(bytes), 'name');
  assert.equal(names(scrubWasm).length, 0);
  const exports = WebAssembly.Module.exports(new WebAssembly.Module(scrubWasm)).map((e) => e.name);
  assert.ok(exports.includes('scrub'));
  assert.ok(!exports.some((n) => /^keyring_|inspect|sealForDelivery/.test(n)), exports.join(' '));
  const fullExports = WebAssembly.Module.exports(new WebAssembly.Module(fullWasm)).map((e) => e.name);
  assert.ok(!fullExports.includes('scrub'), 'the full module exports no scrub');
});
