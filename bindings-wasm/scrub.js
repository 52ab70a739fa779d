// keycustody-wasm/scrub for browsers, bundlers that serve the wasm file (Vite, webpack) and edge
// runtimes: `scrub(text)` in its own wasm module, so that the regex stack it needs is not in the
// full module (about a third of its code). `await init()` once (it fetches
// pkg/scrub/keycustody_wasm_scrub_bg.wasm next to its glue), or `init(source)` with a
// WebAssembly.Module (`import wasm from "keycustody-wasm/scrub/wasm"` in Workers, `…/wasm?module`
// in Next.js edge routes), the bytes, a Response or a URL, as the full package's `init`. Node,
// Bun and Deno get scrub-inline.js (the `node`, `bun`, `deno` conditions): ready on import.
// Independent of the full module: each has its own instance and its own `init`.
import generatedInit from './pkg/scrub/keycustody_wasm_scrub.js';

export { scrub, initSync } from './pkg/scrub/keycustody_wasm_scrub.js';

export default function init(source) {
  if (source === undefined || source === null) return generatedInit();
  if (Object.getPrototypeOf(source) === Object.prototype) return generatedInit(source);
  return generatedInit({ module_or_path: source });
}
