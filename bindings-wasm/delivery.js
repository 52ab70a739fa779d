// keycustody-wasm/delivery: the browser's one job, handing a tenant's secret to the tenant's VM,
// in a module a fraction of the full package's size: `sealForDelivery` and
// `deliveryKeyFingerprint`, nothing else (no keyring, no key pair: the VM holds the private key).
// Its own small wasm (crate bindings-wasm/delivery, the same code as the full package's two
// functions), embedded here as base64 and instantiated synchronously on import: no fetch, no
// file, no bundler configuration (Vite, webpack, esbuild, bun build, Next.js client components,
// Node, Bun, Deno). Not for Cloudflare Workers or Vercel Edge, which refuse to compile wasm
// from bytes (use the full package there). `init()` is a no-op kept so that code written for
// the full package runs unchanged.
import { initSync } from './pkg/delivery/keycustody_wasm_delivery.js';
import wasmBase64 from './pkg/delivery/keycustody_wasm_delivery_inline.js';
import { decodeBase64 } from './base64.js';

const wasmExports = initSync({ module: decodeBase64(wasmBase64) });

export { sealForDelivery, deliveryKeyFingerprint } from './pkg/delivery/keycustody_wasm_delivery.js';

/** Already initialised on import; resolves to the wasm instance's exports. */
export default async function init() {
  return wasmExports;
}
