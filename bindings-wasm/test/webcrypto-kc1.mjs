// kc1 (docs/kc1.md) written directly on WebCrypto (crypto.subtle): an implementation that
// shares no code with keycustody, used to cross-check the wasm build and as the benchmark's
// baseline. HKDF-SHA256(salt "keycustody/v1", IKM root, info "keycustody/v1/envelope" 0x00
// owner) -> AES-256-GCM key; AAD = version || kid || u32(len owner) || owner || context.
const enc = new TextEncoder();
const SALT = enc.encode('keycustody/v1');
const LABEL = enc.encode('keycustody/v1/envelope');

const concat = (...parts) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};
const u32 = (n) => new Uint8Array([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);

export function b64url(bytes) {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function fromB64url(text) {
  const s = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

/** The root key as a WebCrypto HKDF base key (imported once, as a keyring holds it). */
export function importRoot(root) {
  return crypto.subtle.importKey('raw', root, 'HKDF', false, ['deriveKey']);
}

function envelopeKey(rootKey, owner, usage) {
  return crypto.subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: SALT, info: concat(LABEL, new Uint8Array([0]), enc.encode(owner)) },
    rootKey,
    { name: 'AES-GCM', length: 256 },
    false,
    [usage],
  );
}

function aad(kid, owner, context) {
  const o = enc.encode(owner);
  return concat(new Uint8Array([1]), u32(kid), u32(o.length), o, context);
}

/** Seals like Keyring.seal: derives the key per call (HKDF), random nonce; returns kc1 text. */
export async function seal(rootKey, kid, owner, plaintext, context = new Uint8Array(0)) {
  const key = await envelopeKey(rootKey, owner, 'encrypt');
  const nonce = crypto.getRandomValues(new Uint8Array(12));
  const ct = new Uint8Array(
    await crypto.subtle.encrypt({ name: 'AES-GCM', iv: nonce, additionalData: aad(kid, owner, context) }, key, plaintext),
  );
  return 'kc1.' + b64url(concat(new Uint8Array([1]), u32(kid), nonce, ct));
}

/** Opens kc1 text (throws on any failure). */
export async function open(rootKey, owner, envelope, context = new Uint8Array(0)) {
  if (!envelope.startsWith('kc1.')) throw new Error('not kc1');
  const bin = fromB64url(envelope.slice(4));
  if (bin[0] !== 1 || bin.length < 33) throw new Error('bad envelope');
  const kid = ((bin[1] << 24) | (bin[2] << 16) | (bin[3] << 8) | bin[4]) >>> 0;
  const key = await envelopeKey(rootKey, owner, 'decrypt');
  return new Uint8Array(
    await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: bin.subarray(5, 17), additionalData: aad(kid, owner, context) },
      key,
      bin.subarray(17),
    ),
  );
}
