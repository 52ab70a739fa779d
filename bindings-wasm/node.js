// Entry for Node, Bun and Deno (the `node`, `bun` and `deno` export conditions): the inline
// entry, instantiated synchronously on import from the bytes embedded in the package, so the
// API is usable at once, `require()` works (Node >= 20.19), Deno needs no --allow-read, and the
// entry survives being bundled (Next.js server components and prerendering bundle it: no
// file path is computed from import.meta.url). `init()` is a no-op kept so that the same code
// runs in Node and in the browser.
export * from './inline.js';
export { default } from './inline.js';
