// `import wasm from "keycustody-wasm/wasm"` (Cloudflare Workers / wrangler, Vercel and Next.js
// edge routes with "keycustody-wasm/wasm?module", Deno with `import source`): the compiled
// module, to pass to `init(wasm)`. Shipped so that TypeScript strict needs no declaration of
// your own.
declare const wasm: WebAssembly.Module;
export default wasm;
