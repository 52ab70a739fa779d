// keycustody-wasm/delivery: the small module with sealForDelivery and deliveryKeyFingerprint
// only. What it seals the full package (and so every binding) opens; its checks and errors are
// the full package's; it exports nothing else; its wasm is wasm-opt'ed and has no name section.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as small from '../delivery.js';
import * as full from '../node.js';

function throwsKc(fn, code, extra = {}) {
  assert.throws(fn, (e) => {
    assert.equal(e.name, 'KeycustodyError');
    assert.equal(e.code, code, `${e.code}: ${e.message}`);
    for (const [k, v] of Object.entries(extra)) assert.equal(e[k], v, k);
    return true;
  });
}

test('exports sealForDelivery, deliveryKeyFingerprint and init only', async () => {
  assert.deepEqual(Object.keys(small).sort(), ['default', 'deliveryKeyFingerprint', 'sealForDelivery']);
  assert.ok((await small.default()).memory instanceof WebAssembly.Memory);
});

test('what it seals, the full package opens; the fingerprint is the same', () => {
  const kp = full.generateDeliveryKeypair();
  const fp = small.deliveryKeyFingerprint(kp.publicKey);
  assert.equal(fp, full.deliveryKeyFingerprint(kp.publicKey));
  assert.match(fp, /^kcfp1\.[A-Z2-7]{4}(-[A-Z2-7]{4}){7}$/);
  const blob = small.sealForDelivery(kp.publicKey, 'acme', 'sk-small', fp);
  assert.equal(new TextDecoder().decode(full.openDelivery(kp.privateKey, 'acme', blob)), 'sk-small');
  const bytes = new Uint8Array([0, 1, 2, 255]);
  assert.deepEqual(full.openDelivery(kp.privateKey, 'acme', small.sealForDelivery(kp.publicKey, 'acme', bytes)), bytes);
  // Bound to the owner: another tenant's open fails.
  throwsKc(() => full.openDelivery(kp.privateKey, 'other', blob), 'KC_DECRYPT_FAILED');
});

test('a substituted key, bad keys and wrong types are refused with the typed errors of the full package', () => {
  const kp = full.generateDeliveryKeypair();
  const other = full.generateDeliveryKeypair();
  const pin = small.deliveryKeyFingerprint(kp.publicKey);
  throwsKc(() => small.sealForDelivery(other.publicKey, 'acme', 'x', pin), 'KC_CLAIM_MISMATCH', {
    claim: 'delivery key fingerprint',
  });
  for (const [fn, args] of [
    ['sealForDelivery', ['kcpk1.nope', 'acme', 'x']],
    ['deliveryKeyFingerprint', ['kcpk1.nope']],
    ['sealForDelivery', [kp.publicKey, 'acme', 'x', 'kcfp1.bad']],
    ['sealForDelivery', [kp.publicKey, '', 'x']],
    ['sealForDelivery', [kp.publicKey, 'acme', 42]],
    ['sealForDelivery', [kp.publicKey, { toString: () => 'acme' }, 'x']],
    ['deliveryKeyFingerprint', [undefined]],
    ['sealForDelivery', [kp.publicKey, 'acme', '\ud800']],
  ]) {
    let smallErr;
    let fullErr;
    try { small[fn](...args); } catch (e) { smallErr = e; }
    try { full[fn](...args); } catch (e) { fullErr = e; }
    assert.ok(smallErr && fullErr, `${fn} refused by both`);
    for (const k of ['name', 'code', 'kind', 'argument', 'claim', 'malformedKind', 'limit', 'message']) {
      assert.equal(smallErr[k], fullErr[k], `${fn}(${args.map(String).join(', ')}).${k}`);
    }
  }
  throwsKc(() => small.sealForDelivery(kp.publicKey, 'acme', new Uint8Array((1 << 20) + 1)), 'KC_TOO_LARGE');
});

test('its wasm is a separate, optimised module without a name section, a fraction of the full one', () => {
  const wasm = readFileSync(new URL('../pkg/delivery/keycustody_wasm_delivery_bg.wasm', import.meta.url));
  const fullWasm = readFileSync(new URL('../pkg/keycustody_wasm_bg.wasm', import.meta.url));
  const customs = (bytes) =>
    WebAssembly.Module.customSections ? WebAssembly.Module.customSections(new WebAssembly.Module(bytes), 'name') : [];
  assert.equal(customs(wasm).length, 0, 'delivery module has no name section');
  assert.equal(customs(fullWasm).length, 0, 'full module has no name section');
  const exports = WebAssembly.Module.exports(new WebAssembly.Module(wasm)).map((e) => e.name);
  assert.ok(exports.includes('sealForDelivery') && exports.includes('deliveryKeyFingerprint'));
  assert.ok(!exports.some((n) => /^keyring_|openDelivery|generateDeliveryKeypair/.test(n)), exports.join(' '));
  // A fraction: under a third of the full module (scrub's regex stack is in neither since
  // keycustody-wasm/scrub has its own module; they were 218 kB and 807 kB then).
  assert.ok(wasm.length * 3 < fullWasm.length, `${wasm.length} vs ${fullWasm.length}`);
});
