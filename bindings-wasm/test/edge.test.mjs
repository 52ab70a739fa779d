// The entry for browsers, bundlers and edge runtimes (index.js), loaded the edge way:
// init() with a precompiled WebAssembly.Module, as Workers / Vercel Edge hand it over.
// A separate file: node --test runs it in its own process, so node.js never initialised it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import init, * as kc from '../index.js';

test('before init, calls fail loudly instead of returning garbage', () => {
  assert.throws(() => kc.Keyring.generate());
});

test('init({ module_or_path: WebAssembly.Module }) then the API works', async () => {
  const bytes = readFileSync(new URL('../pkg/keycustody_wasm_bg.wasm', import.meta.url));
  const exports = await init({ module_or_path: new WebAssembly.Module(bytes) });
  assert.ok(exports.memory instanceof WebAssembly.Memory);
  const kr = kc.Keyring.generate();
  assert.equal(kr.openText('t', kr.seal('t', 'edge')), 'edge');
  const dk = kc.generateDeliveryKeypair();
  const blob = kc.sealForDelivery(dk.publicKey, 'acme', 'sk-edge');
  assert.equal(new TextDecoder().decode(kc.openDelivery(dk.privateKey, 'acme', blob)), 'sk-edge');
  // A second init is a no-op returning the same instance.
  assert.equal(await init({ module_or_path: new WebAssembly.Module(bytes) }), exports);
});
