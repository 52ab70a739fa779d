// Entry for Node: the module is compiled and instantiated synchronously on import,
// so the API is usable at once. `init()` is kept (a no-op returning the instance's
// exports) so that the same code runs in Node and in the browser.
import { readFileSync } from 'node:fs';
import { initSync } from './pkg/keycustody_wasm.js';

const wasmExports = initSync({
  module: readFileSync(new URL('./pkg/keycustody_wasm_bg.wasm', import.meta.url)),
});

export * from './pkg/keycustody_wasm.js';
// The package's Keyring (see keyring.js); takes precedence over the generated one above.
export { Keyring } from './keyring.js';
// The custody classes and function that take a Keyring (checked in keyring.js).
export { PendingWrap, TenantKeyringCache, wrapWithPassphrase } from './keyring.js';

/** Already initialised on import in Node; resolves to the wasm instance's exports. */
export default async function init() {
  return wasmExports;
}
