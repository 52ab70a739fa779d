// Entry for browsers, bundlers that serve the wasm file (Vite, webpack, Next.js client
// components) and edge runtimes: `await init()` once, then use the API. `init()` fetches
// keycustody_wasm_bg.wasm next to pkg/keycustody_wasm.js; `init(source)` takes a
// WebAssembly.Module (`import wasm from "keycustody-wasm/wasm"` in Workers and edge routes),
// the bytes, a Response or a URL instead. Bundlers that cannot serve files (esbuild, bun build)
// and Deno: `keycustody-wasm/inline`.
export * from './pkg/keycustody_wasm.js';
// The package's Keyring (the generated class with typed fast paths; see keyring.js). An
// explicit export takes precedence over the generated `Keyring` of the line above.
export { Keyring } from './keyring.js';
// The custody classes and function that take a Keyring (checked in keyring.js).
export { PendingWrap, TenantKeyringCache, wrapWithPassphrase, AuditChain } from './keyring.js';
export { default } from './init.js';
