// The JS half of the API manifest check (tests/api.json, schema in tests/api.md), shared by
// bindings-node/test/manifest.test.mjs and bindings-wasm/test/manifest.test.mjs.
//
// `readDts(text)` reads a TypeScript declaration file (napi's index.d.ts or wasm-bindgen's
// keycustody_wasm.d.ts) into the declared surface; `checkJs(manifest, runtime, surface)` returns
// every difference between that surface (plus the module's runtime exports and class
// prototypes) and the manifest, one readable line each: an empty list means they agree.
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const manifestPath = path.join(path.dirname(fileURLToPath(import.meta.url)), 'api.json')
export const loadManifest = () => JSON.parse(fs.readFileSync(manifestPath, 'utf8'))

/** snake_case to camelCase: the JS spelling of a manifest parameter without an explicit `js`. */
export const camel = (s) => s.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase())

// The text between the bracket at `open` and its partner, and the index after the partner.
function balanced(text, open) {
  const pairs = { '(': ')', '{': '}', '<': '>', '[': ']' }
  const stack = []
  for (let i = open; i < text.length; i++) {
    const c = text[i]
    if (c in pairs) stack.push(pairs[c])
    else if (c === stack[stack.length - 1]) {
      stack.pop()
      if (stack.length === 0) return [text.slice(open + 1, i), i + 1]
    } else if (c === '=' && text[i + 1] === '>') i++ // `=>` is not a closing `>`
  }
  throw new Error(`unbalanced declaration at ${open}`)
}

// Splits `a: T, b?: U<V, W>` at its top-level commas into [{name, optional, type}].
export function parseParams(list) {
  const parts = []
  let depth = 0
  let cur = ''
  for (let i = 0; i < list.length; i++) {
    const c = list[i]
    if ('(<{['.includes(c)) depth++
    else if (')>}]'.includes(c) && !(c === '>' && list[i - 1] === '=')) depth--
    if (c === ',' && depth === 0) {
      parts.push(cur)
      cur = ''
    } else cur += c
  }
  if (cur.trim()) parts.push(cur)
  return parts.map((p) => {
    const m = /^\s*(\.\.\.)?([A-Za-z_$][\w$]*)(\?)?\s*:\s*([\s\S]*?)\s*$/.exec(p)
    if (!m) throw new Error(`cannot read parameter ${JSON.stringify(p)}`)
    return { name: m[2], optional: Boolean(m[3]), type: m[4], rest: Boolean(m[1]) }
  })
}

const stripComments = (t) => t.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '')

/**
 * The declared surface: `{functions: {name: params}, classes: {name: {ctor, methods, statics,
 * props}}, consts: [names]}`. Interfaces and types are not runtime values: skipped.
 */
export function readDts(text) {
  const t = stripComments(text)
  const out = { functions: {}, classes: {}, consts: [] }
  const decl = /^export\s+(?:declare\s+)?(default\s+)?(function|class|const|interface|type|enum)\s+([\w$]+)/gm
  let m
  while ((m = decl.exec(t))) {
    const [, isDefault, kind, name] = m
    let i = m.index + m[0].length
    if (kind === 'function') {
      if (t[i] === '<') i = balanced(t, i)[1]
      const [params, end] = balanced(t, t.indexOf('(', i))
      if (!isDefault) out.functions[name] = parseParams(params)
      decl.lastIndex = end
    } else if (kind === 'class') {
      const [body, end] = balanced(t, t.indexOf('{', i))
      out.classes[name] = readClass(body)
      decl.lastIndex = end
    } else if (kind === 'interface') {
      decl.lastIndex = balanced(t, t.indexOf('{', i))[1]
    } else if (kind === 'const') {
      out.consts.push(name)
    }
  }
  return out
}

function readClass(body) {
  const cls = { ctor: null, methods: {}, statics: {}, props: [] }
  const member = /^\s*(static\s+)?(readonly\s+)?(get\s+)?(\[[^\]]+\]|[\w$]+)(\??)\s*([(:])/gm
  let m
  while ((m = member.exec(body))) {
    const [, isStatic, , isGet, name, , open] = m
    const at = m.index + m[0].length - 1
    if (open === ':') {
      cls.props.push(name) // `readonly x: T;` (wasm-bindgen's getter)
      continue
    }
    const [params, end] = balanced(body, at)
    member.lastIndex = end
    if (isGet) cls.props.push(name)
    else if (name === 'constructor') cls.ctor = parseParams(params)
    else (isStatic ? cls.statics : cls.methods)[name] = parseParams(params)
  }
  return cls
}

// The parameters a JS runtime must declare for a manifest entry: [{name, optional}].
export function expectedJsParams(entry) {
  const params = entry.params_override?.js?.params ?? entry.params
  return params.map((p) => ({ name: p.js ?? camel(p.name), optional: 'default' in p }))
}

// `never`-typed parameters are refusal guards (an argument throws), not parameters.
const declared = (params) => params.filter((p) => p.type !== 'never').map((p) => ({ name: p.name, optional: p.optional }))

function compareParams(problems, what, want, got) {
  const g = declared(got)
  const show = (ps) => `(${ps.map((p) => p.name + (p.optional ? '?' : '')).join(', ')})`
  if (show(want) !== show(g)) problems.push(`${what}: manifest says ${show(want)}, declared ${show(g)}`)
}

/**
 * The companion module an entry of `runtime` lives in (its `module` key, e.g. `{"wasm": "scrub"}`
 * for `keycustody-wasm/scrub`), or null for the package's main entry.
 */
export const moduleOf = (entry, runtime) => entry.module?.[runtime] ?? null

/**
 * Every difference between a JS runtime and the manifest.
 * surface: `{dts: readDts(...), exports: Object.keys(module), runtimeClasses: {Name: class}}`.
 * `module`: which of the runtime's modules the surface is (null: the main entry; "scrub": the
 * companion `keycustody-wasm/scrub`); only the manifest's entries of that module are expected.
 */
export function checkJs(manifest, runtime, surface, { module = null } = {}) {
  const problems = []
  const { dts, exports } = surface
  const here = (e) => moduleOf(e, runtime) === module
  const listed = new Set((manifest.runtime_only[runtime] ?? []).filter(here).map((r) => r.name))
  const known = new Set(listed)

  for (const f of manifest.functions) {
    const name = f[runtime]
    if (!name || !here(f)) continue
    known.add(name)
    if (!exports.includes(name)) problems.push(`function ${name}: in the manifest, not exported`)
    if (!(name in dts.functions)) problems.push(`function ${name}: in the manifest, not declared in the .d.ts`)
    else compareParams(problems, `function ${name}`, expectedJsParams(f), dts.functions[name])
  }
  for (const c of manifest.constants) if (c[runtime] && here(c)) known.add(c[runtime])

  for (const c of manifest.classes) {
    const name = c[runtime]
    if (!name || !here(c)) continue
    known.add(name)
    const decl = dts.classes[name]
    const rt = surface.runtimeClasses?.[name]
    if (!exports.includes(name) || typeof rt !== 'function') problems.push(`class ${name}: in the manifest, not exported`)
    if (!decl) {
      problems.push(`class ${name}: in the manifest, not declared in the .d.ts`)
      continue
    }
    const ctor = c.constructor?.[runtime] ? c.constructor : null
    if (ctor) {
      if (!decl.ctor) problems.push(`class ${name}: the manifest lists a constructor, none declared`)
      else compareParams(problems, `new ${name}`, expectedJsParams(ctor), decl.ctor)
    } else if (decl.ctor && declared(decl.ctor).length > 0) {
      problems.push(`class ${name}: declares a constructor the manifest does not list`)
    }
    const want = { methods: new Set(), statics: new Set(), props: new Set() }
    for (const m of c.methods) {
      const mn = m[runtime]
      if (!mn) continue
      const kind = m.property ? 'props' : m.static ? 'statics' : 'methods'
      want[kind].add(mn)
      if (kind === 'props') {
        if (!decl.props.includes(mn)) problems.push(`${name}.${mn}: in the manifest, no property declared`)
      } else if (!(mn in decl[kind])) {
        problems.push(`${name}.${mn}: in the manifest, no ${kind === 'statics' ? 'static method' : 'method'} declared`)
      } else {
        compareParams(problems, `${name}.${mn}`, expectedJsParams(m), decl[kind][mn])
      }
      if (rt) {
        const holder = kind === 'statics' ? rt : rt.prototype
        if (!hasMember(holder, mn)) problems.push(`${name}.${mn}: in the manifest, missing at run time`)
      }
    }
    const extra = (kind, names) => {
      for (const n of names) {
        if (!want[kind].has(n) && !listed.has(`${name}.${n}`)) problems.push(`${name}.${n}: declared, not in the manifest`)
      }
    }
    extra('methods', Object.keys(decl.methods))
    extra('statics', Object.keys(decl.statics))
    extra('props', decl.props)
    if (rt) {
      const all = new Set([...want.methods, ...want.props])
      for (const n of chainNames(rt.prototype, Object.prototype)) {
        if (n !== 'constructor' && !all.has(n) && !listed.has(`${name}.${n}`)) problems.push(`${name}.${n}: on the prototype, not in the manifest`)
      }
      // `[Symbol.hasInstance]` is how `instanceof` is answered (the napi package's JS Keyring
      // accepts the generated class's instances), not a member anyone calls.
      for (const n of chainNames(rt, Function.prototype)) {
        if (!['length', 'name', 'prototype', 'arguments', 'caller', '[Symbol.hasInstance]'].includes(n) && !want.statics.has(n) && !listed.has(`${name}.${n}`)) {
          problems.push(`${name}.${n}: a static at run time, not in the manifest`)
        }
      }
    }
  }

  for (const n of exports) if (!known.has(n)) problems.push(`${n}: exported, not in the manifest`)
  for (const n of Object.keys(dts.functions)) if (!known.has(n)) problems.push(`function ${n}: declared, not in the manifest`)
  for (const n of Object.keys(dts.classes)) if (!known.has(n)) problems.push(`class ${n}: declared, not in the manifest`)
  for (const n of dts.consts) if (!known.has(n)) problems.push(`const ${n}: declared, not in the manifest`)
  return problems
}

// Own names of a prototype or class, symbols as `[Symbol.x]` (the .d.ts spelling).
function ownNames(o) {
  return [
    ...Object.getOwnPropertyNames(o),
    ...Object.getOwnPropertySymbols(o).map((s) => (s === Symbol.dispose ? '[Symbol.dispose]' : `[${s.description}]`)),
  ]
}

// Own names of o and of its prototypes up to (not including) stop: what instances inherit.
function chainNames(o, stop) {
  const names = new Set()
  for (let p = o; p && p !== stop; p = Object.getPrototypeOf(p)) for (const n of ownNames(p)) names.add(n)
  return names
}

function hasMember(o, name) {
  for (let p = o; p && p !== Object.prototype && p !== Function.prototype; p = Object.getPrototypeOf(p)) {
    if (ownNames(p).includes(name)) return true
  }
  return false
}

// ---------------------------------------------------------------------------------------------
// Defaults from core (issue 13 item 3). A .d.ts says only that a parameter is optional, so for
// every default the manifest ties to a core constant a probe calls the binding with the
// argument omitted and checks that it behaves as with the constant's value. A const default
// without a probe here is reported, so a new one cannot go unchecked.


function expectCode(f, code) {
  try {
    f()
  } catch (e) {
    if (e.code === code) return null
    return `threw ${e.code ?? e}, expected ${code}`
  }
  return `did not throw, expected ${code}`
}

function opensslFile(password, iterations, text) {
  const salt = Buffer.alloc(8, 7)
  const kiv = crypto.pbkdf2Sync(password, salt, iterations, 48, 'sha256')
  const c = crypto.createCipheriv('aes-256-cbc', kiv.subarray(0, 32), kiv.subarray(32))
  return new Uint8Array(Buffer.concat([Buffer.from('Salted__'), salt, c.update(text), c.final()]))
}

// Each probe: (kc, value) => null when the omitted argument behaves as `value`, else why not.
const SECRET32 = 'k'.repeat(32)
const KEY20 = new Uint8Array(20).fill(9)
const T0 = 1_700_000_000
export const defaultProbes = {
  'verify_stripe_signature.tolerance': (kc, v) => {
    const header = kc.signStripePayload('{}', 'whsec_test', T0)
    if (kc.verifyStripeSignature('{}', header, 'whsec_test', undefined, T0 + v) !== T0) return `rejected at +${v}`
    return expectCode(() => kc.verifyStripeSignature('{}', header, 'whsec_test', undefined, T0 + v + 1), 'KC_TIMESTAMP_OUT_OF_TOLERANCE')
  },
  // Checked once verify_standard_webhook takes the header mapping (branch errors13).
  'verify_standard_webhook.tolerance': (kc, v) => {
    const secret = 'whsec_' + Buffer.alloc(32, 1).toString('base64')
    const sig = kc.signStandardWebhook('{}', 'msg_1', T0, secret)
    const headers = { 'webhook-id': 'msg_1', 'webhook-timestamp': String(T0), 'webhook-signature': sig }
    try {
      if (kc.verifyStandardWebhook('{}', headers, secret, undefined, T0 + v) !== T0) return `rejected at +${v}`
    } catch (e) {
      return `rejected at +${v}: ${e.code ?? e}`
    }
    return expectCode(() => kc.verifyStandardWebhook('{}', headers, secret, undefined, T0 + v + 1), 'KC_TIMESTAMP_OUT_OF_TOLERANCE')
  },
  // At 2v the step is 2 with period v and 1 with period v + 1.
  'totp_raw_at.period': (kc, v) => {
    const code = kc.totpRawAt(KEY20, 2 * v)
    return code === kc.totpRawAt(KEY20, 2 * v, v) && code !== kc.totpRawAt(KEY20, 2 * v, v + 1) ? null : 'another period'
  },
  'totp_raw_at.digits': (kc, v) => (kc.totpRawAt(KEY20, 59).length === v ? null : 'another length'),
  'decrypt_openssl_enc.iterations': (kc, v) => {
    const text = Buffer.from(kc.decryptOpensslEnc(opensslFile('pw', v, 'file'), 'pw')).toString()
    return text === 'file' ? null : `decrypted ${text}`
  },
  // The Promise twin of decryptOpensslEnc (Node only), probed by the Node tests.
  'decryptOpensslEncAsync.iterations': null,
  'Keyring.from_env.var': (kc, v) => {
    if (typeof kc.Keyring.fromEnv !== 'function') return null
    const before = process.env[v]
    try {
      process.env[v] = kc.Keyring.fromSecret(SECRET32).export()
      return kc.Keyring.fromEnv().kids().length === 1 ? null : 'read another keyring'
    } finally {
      if (before === undefined) delete process.env[v]
      else process.env[v] = before
    }
  },
  'Keyring.from_secret.kid': (kc, v) => (kc.Keyring.fromSecret(SECRET32).primaryKid === v ? null : 'another kid'),
  'Keyring.derive_key.length': (kc, v) => (kc.Keyring.fromSecret(SECRET32).deriveKey('p', 't').length === v ? null : 'another length'),
  'ReplayGuard.new.capacity': (kc, v) => (new kc.ReplayGuard().capacity === v ? null : 'another capacity'),
  'ReplayGuard.new.ttl_seconds': (kc, v) => {
    const g = new kc.ReplayGuard()
    g.checkAndRecord('evt', T0)
    const replayed = expectCode(() => g.checkAndRecord('evt', T0 + v), 'KC_REPLAYED')
    if (replayed) return `at +${v}: ${replayed}`
    g.checkAndRecord('evt', T0 + v + 1) // expired: accepted again
    return null
  },
  'TenantKeyringCache.new.capacity': (kc, v) => (new kc.TenantKeyringCache().capacity === v ? null : 'another capacity'),
  'TenantKeyringCache.new.ttl_secs': (kc, v) => {
    const c = new kc.TenantKeyringCache()
    c.insert('t', kc.Keyring.fromSecret(SECRET32), T0)
    if (!c.get('t', T0 + v - 1)) return `expired before +${v}`
    return c.get('t', T0 + v) ? `still cached at +${v}` : null
  },
}

/** Runs every probe for `runtime`; returns the failures (and const defaults with no probe). */
export function checkDefaults(manifest, runtime, kc, { skip = [] } = {}) {
  const problems = []
  const visit = (key, entry) => {
    if (!entry?.[runtime]) return
    const params = entry.params_override?.js?.params ?? entry.params
    for (const p of params) {
      const d = p.default
      if (!d || typeof d !== 'object' || !('const' in d)) continue
      const id = `${key}.${p.name}`
      if (!(id in defaultProbes)) {
        problems.push(`${id}: defaults to ${d.const} but tests/api-check.mjs has no probe for it`)
        continue
      }
      if (defaultProbes[id] === null || skip.includes(id)) continue
      let why
      try {
        why = defaultProbes[id](kc, d.value)
      } catch (e) {
        why = `threw ${e.code ?? e}`
      }
      if (why) problems.push(`${id}: omitted is not ${d.const} (${d.value}): ${why}`)
    }
  }
  for (const f of manifest.functions) visit(f.python ?? f[runtime], f)
  for (const c of manifest.classes) {
    const cn = c.python ?? c[runtime]
    if (c.constructor) visit(`${cn}.new`, { ...c.constructor, [runtime]: c[runtime] && c.constructor[runtime] })
    for (const m of c.methods) visit(`${cn}.${m.python ?? m[runtime]}`, m)
  }
  return problems
}
