// THE `Keyring` of the package: the class wasm-bindgen generates from src/keyring.rs, extended
// here (a plain subclass; the generated code is used as generated) with typed fast paths for
// the hot calls `seal`, `open` and `openText`. Everything else is inherited unchanged, and the
// generated declarations (pkg/keycustody_wasm.d.ts, re-exported by index.d.ts) describe this
// class exactly: same names, same parameters, same results.
//
// Why: a generated method takes each argument as a JS value and inspects it from wasm through
// calls back into JS, about a third of the cost of a 64-byte seal. When every argument already
// has an accepted type, checked below in JS, the call goes instead to a typed entry of the wasm
// module (`__keyringSealBytes`, `__keyringSealText`, `__keyringOpen`, `__keyringOpenText` in
// src/keyring.rs) that receives the values directly. Anything else (a wrong type, a lone
// surrogate, an engine without String.prototype.isWellFormed) goes to the generated method,
// which throws the typed error. Both make the same core call; test/fast.test.mjs checks that
// they agree. The typed entries trust their argument types: they are internal (`__` names, no
// TypeScript declarations, not part of the API) and only this file calls them.
//
// Small calls go further (the "small path" below): their inputs are written straight into one
// scratch region of the module's memory and the small-call entries receive only lengths, so
// the call makes no allocation in the module and no JS value but its result; see
// src/keyring.rs, "small-call entries". A call whose inputs do not fit the region's fields
// takes the typed entries.
import {
  Keyring as GeneratedKeyring,
  __keyringSealBytes as sealBytes,
  __keyringSealText as sealText,
  __keyringOpen as openTyped,
  __keyringOpenText as openTextTyped,
  __notAKeyring as notAKeyring,
  __scratch as scratchLayout,
  __keyringSealSmall as sealSmall,
  __keyringOpenSmall as openSmall,
  __takeFailure as takeFailure,
  WrappedKeyring,
  PendingWrap as GeneratedPendingWrap,
  TenantKeyringCache as GeneratedTenantKeyringCache,
  wrapWithPassphrase as generatedWrapWithPassphrase,
  AuditChain as GeneratedAuditChain,
  AuditEntry,
  AuditCheckpoint,
  AuditReport,
  __notAnAuditArg as notAnAuditArg,
} from './pkg/keycustody_wasm.js';

const canCheckText = typeof String.prototype.isWellFormed === 'function';

// Whether `v` is a Uint8Array, and its length, by %TypedArray%.prototype's own getters called
// on it: no user code runs (a Proxy, a getter or a replaced prototype cannot answer), so a fast
// path accepts exactly the arrays wasm-bindgen's own checks accept, and nothing re-enters the
// package while the small path writes a call's inputs.
const typedArrayProto = Object.getPrototypeOf(Uint8Array.prototype);
const typedArrayName = Object.getOwnPropertyDescriptor(typedArrayProto, Symbol.toStringTag).get;
const typedArrayLength = Object.getOwnPropertyDescriptor(typedArrayProto, 'length').get;
const isU8 = (v) => typedArrayName.call(v) === 'Uint8Array';

// A string argument the typed entries may take: well-formed UTF-16 (they receive UTF-8, in
// which a lone surrogate would silently become U+FFFD).
const text = (v) => typeof v === 'string' && v.isWellFormed();

// The context as [bytes, text] for a typed entry, or null when the generated method must run.
function ctxArgs(context) {
  if (context === undefined || context === null) return [undefined, undefined];
  if (isU8(context)) return [context, undefined];
  if (text(context)) return [undefined, context];
  return null;
}

// ---- the small path. The region's views (remade when the module's memory grows, which
// detaches the old ones); its layout comes from the module (`__scratch`).
const encoder = new TextEncoder();
// ignoreBOM: a plaintext's leading U+FEFF is part of it (the default decoder would drop it).
const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
const hasToBase64 = typeof Uint8Array.prototype.toBase64 === 'function';
const B64 = { alphabet: 'base64url', omitPadding: true };
let S = null;
function region() {
  if (S !== null && S.out.byteLength !== 0) return S;
  const [memory, at, ownerAt, contextAt, dataAt, outAt, len, failed] = scratchLayout();
  const view = (from, to) => new Uint8Array(memory.buffer, at + from, to - from);
  S = {
    owner: view(ownerAt, contextAt),
    context: view(contextAt, dataAt),
    data: view(dataAt, outAt),
    out: view(outAt, len),
    failed,
  };
  return S;
}
// Set while a small call runs: a call made meanwhile (user code re-entered from inside the
// module, e.g. through a patched crypto.getRandomValues) takes the typed entries instead of
// overwriting the region.
let busy = false;

// A string's UTF-8 into `dst`: its length, or -1 if it does not fit (part may be written).
// A short ASCII string (an owner, a context) is copied by a loop, as wasm-bindgen's own glue
// does: Chromium's `encodeInto` costs ~0.27 µs a call whatever the length, the loop ~2.5 ns a
// character (measured: Node's `encodeInto` is ~0.06 µs, the loop faster up to ~30 characters).
function putText(str, dst) {
  const n = str.length;
  if (n <= 32 && n <= dst.length) {
    let i = 0;
    for (; i < n; i++) {
      const c = str.charCodeAt(i);
      if (c > 0x7f) break;
      dst[i] = c;
    }
    if (i === n) return n;
  }
  const r = encoder.encodeInto(str, dst);
  return r.read === n ? r.written : -1;
}

// Bytes or a string (a context, or the data: see `put`) into `dst`: the length, or -1 (a type
// the typed entries judge, or too long). `undefined`/`null` (no context) is 0.
function putBytes(context, dst) {
  if (context === undefined || context === null) return 0;
  if (isU8(context)) {
    const n = typedArrayLength.call(context);
    if (n > dst.length) return -1;
    dst.set(context);
    return n;
  }
  return text(context) ? putText(context, dst) : -1;
}

// The lengths of the inputs `put` wrote last (one small call at a time: `busy`).
let ownerLen = 0;
let contextLen = 0;
let dataLen = 0;

// Writes a small call's inputs into the region (the data, a plaintext or an envelope, is a
// Uint8Array or a well-formed string: the caller checked): true, or false (the region wiped)
// when they do not fit, or anything at all went wrong (a detached array, say), and the call
// takes the typed entries, which judge the arguments.
function put(r, owner, context, data) {
  try {
    if ((ownerLen = putText(owner, r.owner)) >= 0 && (contextLen = putBytes(context, r.context)) >= 0 &&
        (dataLen = putBytes(data, r.data)) >= 0) {
      return true;
    }
  } catch {}
  r.owner.fill(0);
  r.context.fill(0);
  r.data.fill(0);
  return false;
}

// Runs `f` (one of the two below) unless a small call is running (see `busy`): its result,
// or undefined for the typed entries to take the call.
function small(f, kr, owner, data, context, asText) {
  if (busy) return undefined;
  busy = true;
  try {
    return f(kr, owner, data, context, asText);
  } finally {
    busy = false;
  }
}

// `seal` by the small path, or undefined when the call does not fit (the region wiped).
function sealBySmallPath(kr, owner, plaintext, context) {
  const r = region();
  if (!put(r, owner, context, plaintext)) return undefined;
  // The module wipes the inputs before it returns, failed or not. Its memory may have grown
  // meanwhile (detaching the views): the result is read through fresh ones.
  const n = sealSmall(kr, ownerLen, contextLen, dataLen, !hasToBase64);
  if (n === r.failed) throw takeFailure();
  const out = region().out.subarray(0, n);
  return hasToBase64 ? 'kc1.' + out.toBase64(B64) : decoder.decode(out);
}

// `open` (`asText` false) or `openText` by the small path, or undefined when the call does
// not fit (the region wiped).
function openBySmallPath(kr, owner, envelope, context, asText) {
  const r = region();
  if (!put(r, owner, context, envelope)) return undefined;
  const n = openSmall(kr, ownerLen, contextLen, dataLen, asText);
  if (n === r.failed) throw takeFailure();
  // The plaintext is copied out of the region, which is then wiped.
  const out = region().out;
  const plain = asText ? decoder.decode(out.subarray(0, n)) : out.slice(0, n);
  out.fill(0, 0, n);
  return plain;
}

// Passed to the generated constructor by this module only: see `adopt`.
const ADOPT = Symbol('keycustody.adopt');

// The generated factories return instances of the generated class. The generated constructor
// (src/keyring.rs `new`) moves such a keyring into `this`, here an instance of this class, and
// leaves the old object empty; without a keyring it throws KC_INVALID_ARGUMENT.
const adopt = (generated) => new Keyring(ADOPT, generated);

export class Keyring extends GeneratedKeyring {
  /** Throws `KC_INVALID_ARGUMENT`: use `Keyring.generate()`, `Keyring.parse(text)` or `Keyring.fromSecret(secret, kid)`. */
  constructor(token, generated) {
    super(token === ADOPT ? generated : undefined);
  }

  static generate() {
    return adopt(GeneratedKeyring.generate());
  }

  static parse(keyringText) {
    return adopt(GeneratedKeyring.parse(keyringText));
  }

  static fromSecret(secret, kid) {
    return adopt(GeneratedKeyring.fromSecret(secret, kid));
  }

  seal(owner, plaintext, context) {
    if (canCheckText && text(owner) && (isU8(plaintext) || text(plaintext))) {
      const env = small(sealBySmallPath, this, owner, plaintext, context);
      if (env !== undefined) return env;
    }
    const c = canCheckText && text(owner) ? ctxArgs(context) : null;
    if (c !== null) {
      if (isU8(plaintext)) return sealBytes(this, owner, plaintext, c[0], c[1]);
      if (text(plaintext)) return sealText(this, owner, plaintext, c[0], c[1]);
    }
    return super.seal(owner, plaintext, context);
  }

  open(owner, envelope, context) {
    if (canCheckText && text(owner) && text(envelope)) {
      const plain = small(openBySmallPath, this, owner, envelope, context, false);
      if (plain !== undefined) return plain;
    }
    const c = canCheckText && text(owner) && text(envelope) ? ctxArgs(context) : null;
    if (c !== null) return openTyped(this, owner, envelope, c[0], c[1]);
    return super.open(owner, envelope, context);
  }

  openText(owner, envelope, context) {
    if (canCheckText && text(owner) && text(envelope)) {
      const plain = small(openBySmallPath, this, owner, envelope, context, true);
      if (plain !== undefined) return plain;
    }
    const c = canCheckText && text(owner) && text(envelope) ? ctxArgs(context) : null;
    if (c !== null) return openTextTyped(this, owner, envelope, c[0], c[1]);
    return super.openText(owner, envelope, context);
  }

  sealKeyring(tenant, keyring) {
    return super.sealKeyring(tenant, keyringArg(keyring));
  }

  openKeyring(tenant, envelope) {
    return adopt(super.openKeyring(tenant, envelope));
  }
}

// ---- custody (DESIGN §7): every `keyring` argument is checked here, so that a wrong one
// throws the typed KC_INVALID_ARGUMENT (wasm-bindgen's own check throws an untyped Error and
// would take a freed keyring), and every keyring returned is the package's `Keyring`.
function keyringArg(k) {
  if (!(k instanceof GeneratedKeyring) || !k.__wbg_ptr) throw notAKeyring();
  return k;
}

// WrappedKeyring is made by `parse`, `PendingWrap#finish` and `wrapWithPassphrase` (all
// generated), so its two keyring-returning methods are wrapped on the generated prototype.
for (const name of ['openWithDek', 'openWithPassphrase']) {
  const generated = WrappedKeyring.prototype[name];
  Object.defineProperty(WrappedKeyring.prototype, name, {
    value: { [name](arg) { return adopt(generated.call(this, arg)); } }[name],
    writable: true,
    configurable: true,
  });
}

export class PendingWrap extends GeneratedPendingWrap {
  constructor(keyring, kekType, kekKey, owner) {
    super(keyringArg(keyring), kekType, kekKey, owner);
  }
}

export class TenantKeyringCache extends GeneratedTenantKeyringCache {
  get(tenant, now) {
    const k = super.get(tenant, now);
    return k === undefined ? undefined : adopt(k);
  }

  insert(tenant, keyring, now) {
    return adopt(super.insert(tenant, keyringArg(keyring), now));
  }
}

export function wrapWithPassphrase(keyring, passphrase, owner, mKib, t, p) {
  return generatedWrapWithPassphrase(keyringArg(keyring), passphrase, owner, mKib, t, p);
}

// ---- the audit chain (src/audit.rs): its class arguments are checked here, as keyrings are,
// so that a wrong one throws the typed KC_INVALID_ARGUMENT naming the parameter. wasm-bindgen
// takes ownership of an optional or array argument of a Rust class (the caller's object would
// be emptied), so those are passed as copies (`__clone`).
const live = (v, cls) => v instanceof cls && !!v.__wbg_ptr;
function entryArg(e, name) {
  if (!live(e, AuditEntry)) throw notAnAuditArg(name);
  return e;
}
function optEntryCopy(e, name) {
  if (e === undefined || e === null) return undefined;
  return entryArg(e, name).__clone();
}
function classArg(v, cls, name) {
  if (!live(v, cls)) throw notAnAuditArg(name);
  return v;
}

export class AuditChain extends GeneratedAuditChain {
  constructor(keyring, scope) {
    super(keyringArg(keyring), scope);
  }

  next(prev, event, now) {
    return super.next(optEntryCopy(prev, 'prev'), event, now);
  }

  verifyEntry(entry) {
    return super.verifyEntry(entryArg(entry, 'entry'));
  }

  verifyRun(entries, after) {
    if (!Array.isArray(entries)) throw notAnAuditArg('entries');
    const list = [...entries];
    for (const e of list) entryArg(e, 'entries');
    const a = optEntryCopy(after, 'after');
    return super.verifyRun(list.map((e) => e.__clone()), a);
  }

  checkpoint(head, now) {
    return super.checkpoint(optEntryCopy(head, 'head'), now);
  }

  verifyCheckpoint(checkpoint) {
    return super.verifyCheckpoint(classArg(checkpoint, AuditCheckpoint, 'checkpoint'));
  }

  checkAgainst(checkpoint, report, entryAtCheckpoint) {
    const cp = classArg(checkpoint, AuditCheckpoint, 'checkpoint');
    const rep = classArg(report, AuditReport, 'report');
    return super.checkAgainst(cp, rep, optEntryCopy(entryAtCheckpoint, 'entryAtCheckpoint'));
  }
}
