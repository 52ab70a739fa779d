// Entry with the wasm inside: the module's bytes are embedded (base64, pkg/keycustody_wasm_inline.js)
// and instantiated synchronously on import, so the API is usable at once and nothing is
// fetched or read from disk. For bundlers that cannot serve a .wasm file (esbuild, `bun build`),
// Deno (no --allow-read), and Node (node.js is this entry, so that it survives being bundled).
// Not for Cloudflare Workers or Vercel Edge, which refuse to compile wasm from bytes: there,
// `import wasm from "keycustody-wasm/wasm"` and `init(wasm)`.
// `init()` is kept (a no-op resolving to the instance's exports) so that the same code runs
// with every entry.
import { initSync } from './pkg/keycustody_wasm.js';
import wasmBase64 from './pkg/keycustody_wasm_inline.js';
import { decodeBase64 } from './base64.js';

const wasmExports = initSync({ module: decodeBase64(wasmBase64) });

export * from './pkg/keycustody_wasm.js';
// The package's Keyring (see keyring.js); takes precedence over the generated one above.
export { Keyring } from './keyring.js';
// The custody classes and function that take a Keyring (checked in keyring.js).
export { PendingWrap, TenantKeyringCache, wrapWithPassphrase, AuditChain } from './keyring.js';

/** Already initialised on import; resolves to the wasm instance's exports (any argument is ignored). */
export default async function init() {
  return wasmExports;
}
