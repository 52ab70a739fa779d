// The embedded wasm's base64 as bytes (inline.js, delivery.js): the engine's
// Uint8Array.fromBase64 where it exists, else atob (every browser, Node >= 16, Deno, Bun, workers).
export function decodeBase64(b64) {
  if (typeof Uint8Array.fromBase64 === 'function') return Uint8Array.fromBase64(b64);
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
