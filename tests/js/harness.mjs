// The harness of the shared JS suite (tests/js): written once against an injected module `kc`
// and run against keycustody (napi) in Node, keycustody-wasm in Node and keycustody-wasm in a
// headless Chromium (tests/js/README.md). No Node imports: every module under tests/js/suite
// and this file also load in a browser page.
//
// What differs between the JS packages BY DESIGN is read from tests/api.json: which names a
// runtime has (`has`), and the `js_targets` conventions (error class names, the byte type).

export class AssertionError extends Error {
  constructor(message) {
    super(message)
    this.name = 'AssertionError'
  }
}

const show = (v) => {
  try {
    if (v instanceof Uint8Array) return `${v.constructor.name}[${toHex(v).slice(0, 64)}]`
    if (typeof v === 'bigint') return `${v}n`
    if (typeof v === 'symbol') return v.toString()
    return JSON.stringify(v)?.slice(0, 200) ?? String(v)
  } catch {
    return String(v)
  }
}

function deepEq(a, b) {
  if (Object.is(a, b)) return true
  if (ArrayBuffer.isView(a) && ArrayBuffer.isView(b)) {
    if (a.constructor !== b.constructor && !(a instanceof Uint8Array && b instanceof Uint8Array)) return false
    if (a.length !== b.length) return false
    for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false
    return true
  }
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  if (Array.isArray(a) !== Array.isArray(b)) return false
  const ka = Object.keys(a).sort()
  const kb = Object.keys(b).sort()
  if (ka.length !== kb.length || ka.some((k, i) => k !== kb[i])) return false
  return ka.every((k) => deepEq(a[k], b[k]))
}

/** A small assert (node:assert/strict's subset the suite uses), for Node and the browser. */
export const assert = {
  ok(v, msg) {
    if (!v) throw new AssertionError(msg ?? `expected a truthy value, got ${show(v)}`)
  },
  equal(a, b, msg) {
    if (!Object.is(a, b)) throw new AssertionError(`${msg ? msg + ': ' : ''}${show(a)} !== ${show(b)}`)
  },
  notEqual(a, b, msg) {
    if (Object.is(a, b)) throw new AssertionError(`${msg ? msg + ': ' : ''}both are ${show(a)}`)
  },
  deepEqual(a, b, msg) {
    if (!deepEq(a, b)) throw new AssertionError(`${msg ? msg + ': ' : ''}${show(a)} not deep-equal to ${show(b)}`)
  },
  notDeepEqual(a, b, msg) {
    if (deepEq(a, b)) throw new AssertionError(`${msg ? msg + ': ' : ''}both are ${show(a)}`)
  },
  match(s, re, msg) {
    if (typeof s !== 'string' || !re.test(s)) throw new AssertionError(`${msg ? msg + ': ' : ''}${show(s)} does not match ${re}`)
  },
  fail(msg) {
    throw new AssertionError(msg)
  },
  /** fn must throw; `check(e)` (if given) must not throw. Returns the error. */
  throws(fn, check, msg) {
    let caught
    let threw = false
    try {
      fn()
    } catch (e) {
      threw = true
      caught = e
    }
    if (!threw) throw new AssertionError(msg ?? 'expected a throw, nothing was thrown')
    if (check instanceof RegExp) assert.match(String(caught), check, msg)
    else if (typeof check === 'function') check(caught)
    return caught
  },
}

// Bytes, without Buffer (the page has none).
const enc = new TextEncoder()
const dec = new TextDecoder()
export const utf8 = (s) => enc.encode(s)
export const fromUtf8 = (b) => dec.decode(b)
export function toHex(b) {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')
}
export function fromHex(h) {
  if (typeof h !== 'string' || h.length % 2 !== 0 || !/^[0-9a-f]*$/i.test(h)) throw new AssertionError(`bad hex ${String(h).slice(0, 16)}`)
  const out = new Uint8Array(h.length / 2)
  for (let i = 0; i < out.length; i++) out[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16)
  return out
}
export function b64(bytes) {
  let s = ''
  for (const b of bytes) s += String.fromCharCode(b)
  return btoa(s)
}
export const b64url = (bytes) => b64(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
export function fromB64(text) {
  const s = atob(text.replace(/-/g, '+').replace(/_/g, '/'))
  return Uint8Array.from(s, (c) => c.charCodeAt(0))
}
export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let o = 0
  for (const p of parts) {
    out.set(p, o)
    o += p.length
  }
  return out
}
export const filled = (n, v = 0) => new Uint8Array(n).fill(v)

/** core's Error::code() of a kind: KC_ + SCREAMING_SNAKE_CASE. */
export const codeOf = (kind) => `KC_${kind.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase()}`

/**
 * The package as the suite sees it: the main entry `kc` plus each function the manifest places
 * in a companion module of this runtime (its `module` key: wasm's `scrub` is exported by
 * keycustody-wasm/scrub, not by the main entry), taken from that module (`companions`:
 * {"scrub": the loaded module}). Fails when such a function is also on the main entry or is
 * not exported by its module.
 */
export function withCompanions(kc, companions, manifest, runtime) {
  const out = { ...kc }
  for (const f of manifest.functions) {
    const name = f[runtime]
    const m = f.module?.[runtime]
    if (!name || !m) continue
    if (name in kc) throw new Error(`${name} is exported by the main entry, but tests/api.json places it in the ${m} module`)
    if (typeof companions[m]?.[name] !== 'function') throw new Error(`${name}: not exported by the ${m} module`)
    out[name] = companions[m][name]
  }
  return Object.freeze(out)
}

/**
 * The context every suite module gets: the module under test, the target, the manifest-driven
 * facts about it, and the host's capabilities (Rust interop, files, env vars: null where the
 * host has none).
 */
export function makeContext({ kc, target, runtime, manifest, host }) {
  const conv = manifest.js_targets?.[runtime]
  if (!conv) throw new Error(`tests/api.json has no js_targets.${runtime}`)
  const names = new Set()
  for (const f of manifest.functions) if (f[runtime]) names.add(f[runtime])
  for (const c of manifest.classes) {
    if (!c[runtime]) continue
    names.add(c[runtime])
    for (const m of c.methods ?? []) if (m[runtime]) names.add(`${c[runtime]}.${m[runtime]}`)
  }
  /** Whether the manifest lists `name` ("inspect", "Keyring.fromEnv") for this runtime. */
  const has = (name) => names.has(name)
  const glue = new Set((manifest.runtime_only[runtime] ?? []).map((r) => r.name))

  /** Asserts `e` is a keycustody error of `kind`; `arg` = 'type' | 'range' for argument errors, 'any'. */
  function assertKc(e, kind, arg) {
    assert.ok(e instanceof Error, `expected a ${kind} error, got ${show(e)}`)
    assert.equal(e.kind, kind, `kind (${e.code}: ${e.message})`)
    assert.equal(e.code, codeOf(kind), 'code')
    assert.ok(typeof e.message === 'string' && e.message.length > 0, 'a message')
    // arg 'any': an InvalidArgument of any of the three names (vector cases do not say which).
    const name = arg === 'type' ? conv.type_error_name : arg === 'range' ? conv.range_error_name : conv.error_name
    if (arg === 'any') assert.ok([conv.error_name, conv.type_error_name, conv.range_error_name].includes(e.name), `error name ${e.name}`)
    else assert.equal(e.name, name, `error name (${e.message})`)
    return e
  }
  function throwsKc(fn, kind, arg) {
    let caught
    let threw = false
    try {
      fn()
    } catch (e) {
      threw = true
      caught = e
    }
    assert.ok(threw, `expected a ${kind} error, but nothing was thrown`)
    return assertKc(caught, kind, arg)
  }
  async function rejectsKc(p, kind, arg) {
    let caught
    let threw = false
    try {
      await p
    } catch (e) {
      threw = true
      caught = e
    }
    assert.ok(threw, `expected a ${kind} rejection, but it resolved`)
    return assertKc(caught, kind, arg)
  }
  /** A byte result is the runtime's byte type (Buffer in napi, Uint8Array in wasm). */
  function isBytes(v) {
    return v instanceof Uint8Array && v.constructor.name === conv.bytes_class
  }
  return { kc, target, runtime, manifest, conv, has, glue, assertKc, throwsKc, rejectsKc, isBytes, host }
}

/** Collects the suite's tests: [{name, fn, skip}] in file order. */
export async function collect(modules, ctx) {
  const tests = []
  for (const [file, mod] of modules) {
    // test(name, fn) or test(name, { skip: false | 'why' }, fn), as node:test.
    const test = (name, a, b) => {
      const [opts, fn] = typeof a === 'function' ? [{}, a] : [a, b]
      tests.push({ name: `${file}: ${name}`, fn, skip: opts.skip || false })
    }
    await mod.default(test, ctx)
  }
  return tests
}

/** Runs collected tests one by one (the browser's runner). Returns [{name, ok, skip, error}]. */
export async function runAll(tests) {
  const results = []
  for (const t of tests) {
    if (t.skip) {
      results.push({ name: t.name, ok: true, skip: t.skip })
      continue
    }
    try {
      await t.fn()
      results.push({ name: t.name, ok: true })
    } catch (e) {
      results.push({ name: t.name, ok: false, error: `${e?.stack ?? e}` })
    }
  }
  return results
}
