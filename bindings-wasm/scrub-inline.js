// keycustody-wasm/scrub with the wasm inside (keycustody-wasm/scrub/inline, and
// keycustody-wasm/scrub itself in Node, Bun and Deno): the scrub module's bytes are embedded
// (base64, pkg/scrub/keycustody_wasm_scrub_inline.js) and instantiated synchronously on import,
// as the full package's inline.js does. Not for Cloudflare Workers or Vercel Edge, which refuse
// to compile wasm from bytes: there, `import wasm from "keycustody-wasm/scrub/wasm"` and
// `init(wasm)` with keycustody-wasm/scrub. `init()` is a no-op kept so that the same code runs
// with every entry.
import { initSync } from './pkg/scrub/keycustody_wasm_scrub.js';
import wasmBase64 from './pkg/scrub/keycustody_wasm_scrub_inline.js';
import { decodeBase64 } from './base64.js';

const wasmExports = initSync({ module: decodeBase64(wasmBase64) });

export { scrub, initSync } from './pkg/scrub/keycustody_wasm_scrub.js';

/** Already initialised on import; resolves to the wasm instance's exports (any argument is ignored). */
export default async function init() {
  return wasmExports;
}
