// Fast paths for the hot Keyring calls (seal, open, openText). When every argument already
// has an accepted type, checked here in JS, the call goes to a typed entry of the wasm
// module that receives the values directly, instead of the general entry, which inspects
// each JS value through calls back into JS (about a third of the cost of a 64-byte seal).
// Anything else (a wrong type, a lone surrogate, an engine without
// String.prototype.isWellFormed) takes the general entry, which throws the typed error.
// Both entries make the same core call; test/fast.test.mjs checks that they agree.
//
// The typed entries (`__sealBytes`, `__sealText`, `__open`, `__openText`) trust their
// argument types, so they are taken off the prototype here: only these wrappers reach them.
import { Keyring } from './pkg/keycustody_wasm.js';

const P = Keyring.prototype;
const general = { seal: P.seal, open: P.open, openText: P.openText };
const typed = {
  sealBytes: P.__sealBytes,
  sealText: P.__sealText,
  open: P.__open,
  openText: P.__openText,
};
for (const name of ['__sealBytes', '__sealText', '__open', '__openText']) delete P[name];
const canCheckText = typeof String.prototype.isWellFormed === 'function';

// A string argument the fast path may take: well-formed UTF-16 (the typed entry receives
// UTF-8, in which a lone surrogate would silently become U+FFFD).
const text = (v) => typeof v === 'string' && v.isWellFormed();

// The context as [bytes, text] for the typed entry, or null when the general entry must run.
function ctxArgs(context) {
  if (context === undefined || context === null) return [undefined, undefined];
  if (context instanceof Uint8Array) return [context, undefined];
  if (text(context)) return [undefined, context];
  return null;
}

if (canCheckText) {
  P.seal = function seal(owner, plaintext, context) {
    const c = text(owner) ? ctxArgs(context) : null;
    if (c !== null) {
      if (plaintext instanceof Uint8Array) return typed.sealBytes.call(this, owner, plaintext, c[0], c[1]);
      if (text(plaintext)) return typed.sealText.call(this, owner, plaintext, c[0], c[1]);
    }
    return general.seal.call(this, owner, plaintext, context);
  };
  P.open = function open(owner, envelope, context) {
    const c = text(owner) && text(envelope) ? ctxArgs(context) : null;
    if (c !== null) return typed.open.call(this, owner, envelope, c[0], c[1]);
    return general.open.call(this, owner, envelope, context);
  };
  P.openText = function openText(owner, envelope, context) {
    const c = text(owner) && text(envelope) ? ctxArgs(context) : null;
    if (c !== null) return typed.openText.call(this, owner, envelope, c[0], c[1]);
    return general.openText.call(this, owner, envelope, context);
  };
}
