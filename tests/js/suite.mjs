// The modules of the shared JS suite, in run order. Each exports `default (test, ctx)`.
// Importable in Node and in the browser page (relative URLs only).
export const MODULES = ['vectors', 'keyring', 'errors', 'platform', 'audit', 'garbage', 'no_secret', 'interop']

export async function loadModules(base = new URL('./suite/', import.meta.url)) {
  const out = []
  for (const m of MODULES) out.push([m, await import(new URL(`${m}.mjs`, base).href)])
  return out
}
