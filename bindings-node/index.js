'use strict'
// THE entry point of the `keycustody` package (hand-written; `napi build --js native.js`
// generates the loader native.js, and index.d.ts, which describes this module exactly).
//
// Everything is the generated module's export, unchanged, except `Keyring`: a plain subclass
// of the generated class with fast paths for the hot calls `seal`, `open`, `sealBinary` and
// `openBinary`. Why (measured; ASSURANCE.md §9, BENCHMARKS.md): a generated method call
// checks its receiver against the class, and a `Buffer` made through Node-API costs several
// times one made by `Buffer.allocUnsafeSlow` in JS. So a keyring made by this class's
// factories carries a handle to its Rust keyring (`__keyringHandle`), and the fast paths call
// internal entries (src/fast.rs: `__keyringSeal`, `__keyringOpenInto`,
// `__keyringSealBinaryInto`, `__keyringOpenBinaryInto`) that take the handle, convert the
// arguments exactly as the generated method does (same functions, same order: the same
// errors) and fill a Buffer allocated here with the result's length (sized with two constants
// of core that src/fast.rs exports, `__keyringMaxPlaintext` and `__keyringOverhead`). Results
// that hold plaintext get their own backing store (`allocUnsafeSlow`, never Node's shared
// pool, whose other slices `.buffer` would expose); `sealBinary`'s result, ciphertext, comes
// from the pool (`Buffer.allocUnsafe`). The entries wipe the Buffer on failure. Anything the
// fast path does not size (a keyring without a handle, an envelope text too short or too long
// for any envelope, a plaintext that is not a Uint8Array, over 64 MiB) goes to the generated
// method. test/fast.test.mjs checks both paths agree, and that plaintext results own theirs.
//
// The `__` entries are internal: no declarations, not exported here, not in tests/api.json.
// Keyrings the native code returns elsewhere (`WrappedKeyring.openWith*`, `TenantKeyringCache`,
// `Keyring.openKeyring`, ...) are instances of the generated class: `instanceof Keyring` holds
// for them too (`Symbol.hasInstance` below) and they take the generated methods.
const native = require('./native.js')

const Generated = native.Keyring
const handleOf = native.__keyringHandle
const sealFast = native.__keyringSeal
const openInto = native.__keyringOpenInto
const sealBinaryInto = native.__keyringSealBinaryInto
const openBinaryInto = native.__keyringOpenBinaryInto

// core's MAX_PLAINTEXT and Keyring::sealed_len(0), read from the native module once, here (the
// `__` constants of src/fast.rs): only to size the result; the entries check lengths themselves
// and make their own Buffer when the size differs.
const MAX_PLAINTEXT = native.__keyringMaxPlaintext
const OVERHEAD = native.__keyringOverhead
const HANDLE = Symbol('keycustody.handle')

// ---- the small path (src/fast.rs, "the small path"): the inputs of a small call go into
// this thread's scratch region, seen here as a Buffer over the same memory, and the entries
// (`__keyringSealSmall`, `__keyringOpenSmall`) take only the handle and their lengths. A
// string reaches the region only if it is well-formed UTF-16 (a lone surrogate is the regular
// entries' Malformed error), so without `String.prototype.isWellFormed` (Node < 20) there is
// no small path; nor where the runtime refuses external ArrayBuffers (Electron's V8 sandbox).
const sealSmall = native.__keyringSealSmall
const openSmall = native.__keyringOpenSmall
let region = Buffer.alloc(0)
try {
  region = Buffer.from(native.__scratch())
} catch {}
const [OWNER_AT, CONTEXT_AT, DATA_AT, OUT_AT, REGION_LEN] = native.__scratchLayout()
const SMALL = typeof String.prototype.isWellFormed === 'function' && region.length === REGION_LEN
const ownerField = region.subarray(OWNER_AT, CONTEXT_AT)
const contextField = region.subarray(CONTEXT_AT, DATA_AT)
const dataField = region.subarray(DATA_AT, OUT_AT)
const encoder = new TextEncoder()

// Whether `v` is a Uint8Array (a Buffer is one), and its length, by %TypedArray%.prototype's own
// getters called on it: no user code runs (a Proxy, a getter or a replaced prototype cannot
// answer), so nothing can re-enter this module while a call's inputs are being written, and
// what is accepted here is what Node-API's typed-array check accepts.
const typedArrayProto = Object.getPrototypeOf(Uint8Array.prototype)
const typedArrayName = Object.getOwnPropertyDescriptor(typedArrayProto, Symbol.toStringTag).get
const typedArrayLength = Object.getOwnPropertyDescriptor(typedArrayProto, 'length').get
const isU8 = (v) => typedArrayName.call(v) === 'Uint8Array'

// A well-formed string's UTF-8 into `dst`: its length, or -1 (not well-formed, or does not fit;
// part may be written). A short ASCII string is copied by a loop (faster than `encodeInto` up
// to ~30 characters).
function putText(str, dst) {
  if (!str.isWellFormed()) return -1
  const n = str.length
  if (n <= 32 && n <= dst.length) {
    let i = 0
    for (; i < n; i++) {
      const c = str.charCodeAt(i)
      if (c > 0x7f) break
      dst[i] = c
    }
    if (i === n) return n
  }
  const r = encoder.encodeInto(str, dst)
  return r.read === n ? r.written : -1
}

// Bytes or a string into `dst`: the length, or -1 (a type the regular entries judge, or too
// long). `undefined`/`null` (no context) is 0.
function putBytes(v, dst) {
  if (v === undefined || v === null) return 0
  if (typeof v === 'string') return putText(v, dst)
  if (!isU8(v)) return -1
  const n = typedArrayLength.call(v)
  if (n > dst.length) return -1
  dst.set(v)
  return n
}

// The lengths of the inputs `put` wrote last (one call at a time: JS runs on one thread).
let ownerLen = 0
let contextLen = 0
let dataLen = 0

// Writes a small call's inputs into the region: true, or false (the region wiped) when they
// do not fit, or anything at all went wrong (a detached array, say), and the call takes the
// regular entries, which judge the arguments.
function put(owner, context, data) {
  try {
    if (typeof owner === 'string' && (ownerLen = putText(owner, ownerField)) >= 0 &&
        (contextLen = putBytes(context, contextField)) >= 0 &&
        data !== undefined && data !== null && (dataLen = putBytes(data, dataField)) >= 0) {
      return true
    }
  } catch {}
  region.fill(0, 0, OUT_AT)
  return false
}

// A small call's plaintext result: a Buffer over an ArrayBuffer of its own (off V8's heap, where
// a typed array of up to 64 bytes would otherwise live and be moved by the GC, leaving copies;
// never a pool slice), then the output part is wiped.
function plaintextOut(n) {
  const b = Buffer.from(new ArrayBuffer(n))
  region.copy(b, 0, OUT_AT, OUT_AT + n)
  region.fill(0, OUT_AT, OUT_AT + n)
  return b
}

// The plaintext length of an envelope text of `n` characters, or -1 for none: core defines it
// (Keyring::opened_len, core/src/envelope.rs: "kc1." + unpadded base64url, 3 bytes in 4
// characters). Only a size guess, computed here to spare a native call per open: a text of a
// length no envelope has just fails in the entry as in the generated method.
function textPlaintextLength(n) {
  const p = Math.floor(((n - 4) * 3) / 4) - OVERHEAD
  return p >= 0 && p <= MAX_PLAINTEXT ? p : -1
}

// A keyring made by the generated factory, as an instance of this class with its handle.
function adopt(k) {
  Object.setPrototypeOf(k, Keyring.prototype)
  Object.defineProperty(k, HANDLE, { value: handleOf(k) })
  return k
}

class Keyring extends Generated {
  static [Symbol.hasInstance](v) {
    return v instanceof Generated
  }

  static generate() {
    return adopt(Generated.generate())
  }

  static parse(text) {
    return adopt(Generated.parse(text))
  }

  static fromEnv(name) {
    return adopt(Generated.fromEnv(name))
  }

  static fromFile(path) {
    return adopt(Generated.fromFile(path))
  }

  static fromSecret(secret, kid) {
    return adopt(Generated.fromSecret(secret, kid))
  }

  seal(owner, plaintext, context) {
    const h = this[HANDLE]
    if (h === undefined) return super.seal(owner, plaintext, context)
    if (SMALL && put(owner, context, plaintext)) {
      const n = sealSmall(h, ownerLen, contextLen, dataLen, false)
      return region.toString('latin1', OUT_AT, OUT_AT + n)
    }
    return sealFast(h, owner, plaintext, context)
  }

  open(owner, envelope, context) {
    const h = this[HANDLE]
    if (h !== undefined && SMALL && typeof envelope === 'string' && put(owner, context, envelope)) {
      return plaintextOut(openSmall(h, ownerLen, contextLen, dataLen, false))
    }
    const n = h !== undefined && typeof envelope === 'string' ? textPlaintextLength(envelope.length) : -1
    if (n < 0) return super.open(owner, envelope, context)
    const out = Buffer.allocUnsafeSlow(n)
    return openInto(h, owner, envelope, context, out) ?? out
  }

  sealBinary(owner, plaintext, context) {
    const h = this[HANDLE]
    if (h === undefined || !(plaintext instanceof Uint8Array) || plaintext.length > MAX_PLAINTEXT) {
      return super.sealBinary(owner, plaintext, context)
    }
    if (SMALL && put(owner, context, plaintext)) {
      const n = sealSmall(h, ownerLen, contextLen, dataLen, true)
      const out = Buffer.allocUnsafe(n)
      region.copy(out, 0, OUT_AT, OUT_AT + n)
      return out
    }
    // Ciphertext, not secret: from Node's shared pool (`Buffer.allocUnsafe`), as Node's own
    // `Buffer.from` results are. A 128-byte `allocUnsafeSlow` (64 B sealed) is past V8's
    // 64-byte on-heap limit and costs an ArrayBuffer allocation (~0.5 µs, ASSURANCE.md §9);
    // a pool slice does not. The entry wipes `out` if sealing fails.
    const out = Buffer.allocUnsafe(plaintext.length + OVERHEAD)
    return sealBinaryInto(h, owner, plaintext, context, out) ?? out
  }

  openBinary(owner, envelope, context) {
    const h = this[HANDLE]
    if (h === undefined || !(envelope instanceof Uint8Array) || envelope.length < OVERHEAD) {
      return super.openBinary(owner, envelope, context)
    }
    if (SMALL && put(owner, context, envelope)) {
      return plaintextOut(openSmall(h, ownerLen, contextLen, dataLen, true))
    }
    const out = Buffer.allocUnsafeSlow(envelope.length - OVERHEAD)
    return openBinaryInto(h, owner, envelope, context, out) ?? out
  }
}

// The package's exports, one literal line each (Node's CommonJS named-export detection for
// `import { Keyring } from 'keycustody'` reads them): the generated module's, less its `__`
// entries, with this `Keyring`. The manifest test (test/manifest.test.mjs) fails on a name
// missing here or one too many.
module.exports.__napiBindingTarget = native.__napiBindingTarget
module.exports.AuditChain = native.AuditChain
module.exports.AuditCheckpoint = native.AuditCheckpoint
module.exports.AuditEntry = native.AuditEntry
module.exports.AuditReport = native.AuditReport
module.exports.Keyring = Keyring
module.exports.PendingWrap = native.PendingWrap
module.exports.ReplayGuard = native.ReplayGuard
module.exports.TenantKeyringCache = native.TenantKeyringCache
module.exports.WrappedKeyring = native.WrappedKeyring
module.exports.constantTimeEqual = native.constantTimeEqual
module.exports.decryptLegacyPbkdf2Gcm = native.decryptLegacyPbkdf2Gcm
module.exports.decryptLegacyPbkdf2GcmAsync = native.decryptLegacyPbkdf2GcmAsync
module.exports.decryptOpensslEnc = native.decryptOpensslEnc
module.exports.decryptOpensslEncAsync = native.decryptOpensslEncAsync
module.exports.deliveryKeyFingerprint = native.deliveryKeyFingerprint
module.exports.deliveryPublicKey = native.deliveryPublicKey
module.exports.deriveDeliveryKeypair = native.deriveDeliveryKeypair
module.exports.generateApiKey = native.generateApiKey
module.exports.generateDeliveryKeypair = native.generateDeliveryKeypair
module.exports.generateStandardWebhookSecret = native.generateStandardWebhookSecret
module.exports.generateTotpSecret = native.generateTotpSecret
module.exports.hashApiKey = native.hashApiKey
module.exports.inspect = native.inspect
module.exports.inspectBinary = native.inspectBinary
module.exports.inviteCode = native.inviteCode
module.exports.isWrappedKeyring = native.isWrappedKeyring
module.exports.openDelivery = native.openDelivery
module.exports.parseApiKey = native.parseApiKey
module.exports.randomBase62 = native.randomBase62
module.exports.randomString = native.randomString
module.exports.randomToken = native.randomToken
module.exports.scrub = native.scrub
module.exports.sealForDelivery = native.sealForDelivery
module.exports.signStandardWebhook = native.signStandardWebhook
module.exports.signStripePayload = native.signStripePayload
module.exports.totpAt = native.totpAt
module.exports.totpRawAt = native.totpRawAt
module.exports.totpStep = native.totpStep
module.exports.totpUri = native.totpUri
module.exports.validateEmail = native.validateEmail
module.exports.validateSlug = native.validateSlug
module.exports.verifyApiKey = native.verifyApiKey
module.exports.verifyStandardWebhook = native.verifyStandardWebhook
module.exports.verifyStripeSignature = native.verifyStripeSignature
module.exports.verifyTelegramSecret = native.verifyTelegramSecret
module.exports.verifyTotpAt = native.verifyTotpAt
module.exports.wrapWithPassphrase = native.wrapWithPassphrase
