// keycustody-wasm against the WebCrypto kc1 implementation (webcrypto-kc1.mjs), both ways.
// No Node imports: runs in Node (globalThis.crypto) and in the browser page.
import * as wc from './webcrypto-kc1.mjs';

const enc = new TextEncoder();
const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

/** Returns a list of failures (empty when everything matched). */
export async function crossCheck(kc) {
  const failures = [];
  const root = crypto.getRandomValues(new Uint8Array(32));
  const kr = kc.Keyring.fromSecret(root, 7);
  const rootKey = await wc.importRoot(root);
  const big = crypto.getRandomValues(new Uint8Array(65536));
  const cases = [
    ['tenant-0001', 'openrouter_key', enc.encode('sk-or-v1-0123456789abcdef')],
    ['tenant-ü', '', enc.encode('ключ 🔑')],
    // 1000, not 1024: Node's WebCrypto (OpenSSL) caps the HKDF info at 1024 bytes.
    ['o'.repeat(1000), 'c'.repeat(500), new Uint8Array(0)],
    ['tenant-2', 'blob', big],
  ];
  for (const [owner, context, pt] of cases) {
    const ctx = enc.encode(context);
    const where = `${owner.slice(0, 12)}/${context.slice(0, 12)}/${pt.length}`;
    const fromWebCrypto = await wc.seal(rootKey, 7, owner, pt, ctx);
    if (kc.inspect(fromWebCrypto).kid !== 7) failures.push(`${where}: kid`);
    try {
      if (hex(kr.open(owner, fromWebCrypto, context)) !== hex(pt)) failures.push(`${where}: wasm opened other bytes`);
    } catch (e) {
      failures.push(`${where}: wasm could not open the WebCrypto envelope: ${e.code}`);
    }
    const fromWasm = kr.seal(owner, pt, ctx);
    try {
      if (hex(await wc.open(rootKey, owner, fromWasm, ctx)) !== hex(pt)) failures.push(`${where}: WebCrypto opened other bytes`);
    } catch (e) {
      failures.push(`${where}: WebCrypto could not open the wasm envelope: ${e}`);
    }
    // Both refuse the wrong context.
    try {
      await wc.open(rootKey, owner, fromWasm, enc.encode(`${context}x`));
      failures.push(`${where}: WebCrypto opened with the wrong context`);
    } catch {
      // expected
    }
  }
  return failures;
}
