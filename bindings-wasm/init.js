// `init(source?)`, the package's loader, shared by every entry that does not instantiate on
// import (index.js). `source` may be a WebAssembly.Module (what `import wasm from
// "keycustody-wasm/wasm"` gives in Workers, Next.js edge routes with `?module`, Deno's `import
// source`), the bytes (an ArrayBuffer or a typed array), a Response or a promise of one
// (`fetch(url)`), a URL or a URL string; `{ module_or_path }` (wasm-bindgen's form) is accepted
// too. Without a source the wasm is fetched from beside pkg/keycustody_wasm.js (what Vite and
// webpack serve). A second call returns the same instance.
import generatedInit from './pkg/keycustody_wasm.js';

export default function init(source) {
  if (source === undefined || source === null) return generatedInit();
  if (Object.getPrototypeOf(source) === Object.prototype) return generatedInit(source);
  return generatedInit({ module_or_path: source });
}
