// Garbage in, typed error out — for EVERY exported function and method.
// Wrong JavaScript types give a TypeError, out-of-range numbers a RangeError (both with
// code KC_INVALID_ARGUMENT), bad values the core's own code; never a crash, and no message
// ever quotes the input. The spec table below must list every export (checked first), so a
// new export without garbage coverage fails this suite.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { kc, assertKcError } from './helpers.mjs'
import { specs, instanceMethods, staticMethods, freeFunctions, replayGuardMethods, classes } from './specs.mjs'

const MARKER = 'sk-MARKER-do-not-echo-7f3a'

const garbage = {
  string: [42, true, { secret: MARKER }, [MARKER], Symbol('s'), 10n, () => MARKER, Buffer.from(MARKER)],
  bytes: [
    42,
    false,
    { secret: MARKER },
    [1, 2, 3],
    Symbol('b'),
    10n,
    () => MARKER,
    new Uint16Array(4),
    new Float64Array(1),
    new ArrayBuffer(4),
    new DataView(new ArrayBuffer(4)),
  ],
  binary: [MARKER, 42, true, { secret: MARKER }, [1, 2], Symbol('b'), 10n, () => MARKER, new Uint32Array(2), new ArrayBuffer(4)],
  int: [MARKER, true, { n: 1, secret: MARKER }, [1], Symbol('i'), 10n, () => 1],
  i64: [MARKER, false, { secret: MARKER }, [1], Symbol('t'), 10n, () => 1],
  claims: [42, true, Symbol('c'), 10n, () => MARKER, { toJSON: () => 10n }, (() => { const o = {}; o.self = o; return o })()],
  headers: [42, MARKER, true, Symbol('h'), 10n, () => MARKER, [MARKER], [['webhook-id', 'msg_1']], Buffer.from(MARKER), new Uint8Array(2)],
  object: [42, MARKER, true, Symbol('o'), 10n, () => MARKER, [MARKER], Buffer.from(MARKER)],
}
const outOfRange = {
  int: [-1, 1.5, NaN, Infinity, -Infinity, 2 ** 53, -(2 ** 60)],
  i64: [1.5, NaN, Infinity, -Infinity, 2 ** 53, -(2 ** 53)],
}

/** Calls `fn`; asserts a sync throw or a promise rejection with kind/class; returns the error. */
async function fails(fn, kind, cls, label) {
  let r
  try {
    r = fn()
  } catch (e) {
    assertKcError(e, kind, cls)
    return e
  }
  assert.ok(r instanceof Promise, `${label}: expected a ${kind} error, got ${typeof r}`)
  try {
    await r
  } catch (e) {
    assertKcError(e, kind, cls)
    return e
  }
  assert.fail(`${label}: expected a ${kind} rejection, but it resolved`)
}

function noEcho(e, label) {
  const shown = `${e.message} ${e.stack} ${JSON.stringify(e)}`
  assert.ok(!shown.includes(MARKER), `${label}: the error message echoes the input`)
}

test('the spec table lists every export', () => {
  const exported = Object.keys(kc).filter((n) => !n.startsWith('__'))
  const listed = [...freeFunctions, ...classes]
  assert.deepEqual([...exported].sort(), [...listed].sort(), 'free functions')
  const statics = Object.getOwnPropertyNames(kc.Keyring).filter(
    (n) => typeof kc.Keyring[n] === 'function' && !['length', 'name', 'prototype'].includes(n),
  )
  assert.deepEqual(statics.sort(), [...staticMethods].sort(), 'Keyring static methods')
  const methods = Object.getOwnPropertyNames(kc.Keyring.prototype).filter((n) => {
    if (n === 'constructor') return false
    const d = Object.getOwnPropertyDescriptor(kc.Keyring.prototype, n)
    return typeof d.value === 'function'
  })
  assert.deepEqual(methods.sort(), [...instanceMethods].sort(), 'Keyring methods')
  const guardMethods = Object.getOwnPropertyNames(kc.ReplayGuard.prototype).filter((n) => {
    const d = Object.getOwnPropertyDescriptor(kc.ReplayGuard.prototype, n)
    return n !== 'constructor' && typeof d.value === 'function'
  })
  assert.deepEqual(guardMethods.sort(), [...replayGuardMethods].sort(), 'ReplayGuard methods')
  for (const n of [...freeFunctions, ...staticMethods.map((s) => `Keyring.${s}`), ...instanceMethods.map((m) => `#${m}`)]) {
    assert.ok(specs[n], `no garbage spec for ${n}`)
  }
})

for (const [name, spec] of Object.entries(specs)) {
  test(`garbage: ${name}`, async () => {
    // The valid call works (so the failures below are about the one bad argument).
    await spec.call(...spec.args)
    for (let i = 0; i < spec.types.length; i++) {
      const t = spec.types[i]
      const optional = t.endsWith('?')
      const base = optional ? t.slice(0, -1) : t
      const bad = [...garbage[base]]
      if (!optional) bad.push(undefined, null)
      for (const g of bad) {
        const args = [...spec.args]
        args[i] = g
        const label = `${name} arg ${i} = ${typeof g}`
        const e = await fails(() => spec.call(...args), 'InvalidArgument', TypeError, label)
        noEcho(e, label)
      }
      for (const g of outOfRange[base] ?? []) {
        const args = [...spec.args]
        args[i] = g
        const label = `${name} arg ${i} = ${g}`
        const e = await fails(() => spec.call(...args), 'InvalidArgument', RangeError, label)
        noEcho(e, label)
      }
      if (optional) {
        // undefined and null mean "use the default": never a type or range error
        // (a core error is fine, e.g. DecryptFailed when the default context is not the sealed one).
        for (const d of [undefined, null]) {
          const args = [...spec.args]
          args[i] = d
          try {
            await spec.call(...args)
          } catch (e) {
            assert.ok(!(e instanceof TypeError) && !(e instanceof RangeError), `${name} arg ${i} = ${d}: ${e.message}`)
            assert.ok(typeof e.code === 'string' && e.code.startsWith('KC_'), `${name} arg ${i} = ${d}: ${e.message}`)
          }
        }
      }
    }
    // Value-level garbage: each case names the core error it must give.
    for (const [label, args, kind] of spec.bad ?? []) {
      const e = await fails(() => spec.call(...args), kind, Error, `${name}: ${label}`)
      noEcho(e, `${name}: ${label}`)
    }
  })
}

// A lone surrogate in ANY string argument is refused with Malformed (kind Utf8), never
// read as U+FFFD: otherwise "tenant-\uD800" and "tenant-\uFFFD" would be one owner (the
// shared cases, per position, are tests/vectors/strings_v1.json).
const LONE = ['\uD800', '\uDFFF', '\uDC00\uD800']
function withLone(valid, lone) {
  const s = typeof valid === 'string' ? valid : 'text'
  const mid = s.length >> 1
  return s.slice(0, mid) + lone + s.slice(mid)
}
for (const [name, spec] of Object.entries(specs)) {
  const positions = spec.types
    .map((t, i) => [t.replace(/\?$/, ''), i])
    .filter(([t, i]) => (t === 'string' || t === 'bytes') && i < spec.args.length)
  if (positions.length === 0) continue
  test(`lone surrogates: ${name}`, async () => {
    for (const [, i] of positions) {
      for (const lone of LONE) {
        const args = [...spec.args]
        args[i] = withLone(spec.args[i], lone)
        const label = `${name} arg ${i} with ${JSON.stringify(lone)}`
        const e = await fails(() => spec.call(...args), 'Malformed', Error, label)
        assert.equal(e.code, 'KC_MALFORMED', label)
        assert.ok(!(e instanceof TypeError), label)
      }
    }
  })
}

test('lone surrogates: Keyring.fromEnv(name) and the U+FFFD owner stay apart', () => {
  assert.throws(() => kc.Keyring.fromEnv('KEYCUSTODY_\uD800'), (e) => e.code === 'KC_MALFORMED' && e.kind === 'Malformed')
  const k = kc.Keyring.generate()
  const sealed = k.seal('tenant-\uFFFD', 'x')
  assert.equal(k.openText('tenant-\uFFFD', sealed), 'x')
  for (const o of ['tenant-\uD800', 'tenant-\uDFFF']) {
    assert.throws(() => k.open(o, sealed), (e) => e.code === 'KC_MALFORMED')
    assert.throws(() => k.deriveKey('p', o), (e) => e.code === 'KC_MALFORMED')
  }
  // A genuine U+FFFD and a real surrogate pair are well-formed.
  assert.equal(k.deriveKey('p', 'tenant-\uFFFD').length, 32)
  assert.equal(k.openText('tenant-\u{1F600}', k.seal('tenant-\u{1F600}', 'y\u{1F600}')), 'y\u{1F600}')
})
