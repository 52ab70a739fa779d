// Entry for browsers, bundlers and edge runtimes: `await init()` once, then use the API.
// `init()` fetches keycustody_wasm_bg.wasm next to pkg/keycustody_wasm.js; pass
// `{ module_or_path }` (a URL, a Response, bytes or a WebAssembly.Module) to load it otherwise.
import './fast.js';
export * from './pkg/keycustody_wasm.js';
export { default } from './pkg/keycustody_wasm.js';
