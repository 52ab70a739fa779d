// Entry for browsers, bundlers and edge runtimes: `await init()` once, then use the API.
// `init()` fetches keycustody_wasm_bg.wasm next to pkg/keycustody_wasm.js; pass
// `{ module_or_path }` (a URL, a Response, bytes or a WebAssembly.Module) to load it otherwise.
export * from './pkg/keycustody_wasm.js';
// The package's Keyring (the generated class with typed fast paths; see keyring.js). An
// explicit export takes precedence over the generated `Keyring` of the line above.
export { Keyring } from './keyring.js';
// The custody classes and function that take a Keyring (checked in keyring.js).
export { PendingWrap, TenantKeyringCache, wrapWithPassphrase } from './keyring.js';
export { default } from './pkg/keycustody_wasm.js';
