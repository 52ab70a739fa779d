// The test-vector runner of keycustody-wasm: tests/vectors/*.json against the package.
// Pure ESM with no Node imports: the same module runs in Node and in a browser page.
// It dispatches on (file, op); an unknown file or op is a FAILURE, never a skip.

export function fromHex(h) {
  if (typeof h !== 'string' || h.length % 2 !== 0 || !/^[0-9a-f]*$/.test(h)) {
    throw new Mismatch(`bad hex in vector: ${String(h).slice(0, 16)}`);
  }
  const out = new Uint8Array(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function toHex(b) {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

/** A vector whose result differs from the expectation (as opposed to a KeycustodyError). */
export class Mismatch extends Error {}

function eq(what, got, want) {
  if (got !== want) throw new Mismatch(`${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
}

function need(c, ...fields) {
  for (const f of fields) if (!(f in c)) throw new Mismatch(`vector lacks field ${f}`);
}

// Each handler runs one case and, when it returns, has checked the "ok" result.
// It throws a KeycustodyError when the library refuses (compared with `expect` by the caller).
function handlers(kc) {
  const { Keyring } = kc;
  const ctx = (c) => fromHex(c.context_hex ?? '');
  return {
    'envelope_v1.json': {
      open(c) {
        const kr = Keyring.parse(c.keyring);
        const pt = kr.open(c.owner, c.envelope, ctx(c));
        if (c.expect === 'ok') eq('plaintext', toHex(pt), c.plaintext_hex);
      },
      inspect(c) {
        const i = kc.inspect(c.envelope);
        if (c.expect === 'ok') {
          eq('version', i.version, 1);
          eq('kid', i.kid, c.kid);
          eq('plaintextLen', i.plaintextLen, c.plaintext_len);
        }
      },
      needs_rewrap(c) {
        const r = Keyring.parse(c.keyring).needsRewrap(c.envelope);
        if (c.expect === 'ok') eq('result', r, c.result);
      },
      rewrap(c) {
        const kr = Keyring.parse(c.keyring);
        const out = kr.rewrap(c.owner, c.envelope, ctx(c));
        if (c.expect === 'ok') {
          eq('rewrapped plaintext', toHex(kr.open(c.owner, out, ctx(c))), c.plaintext_hex);
          eq('rewrapped kid', kc.inspect(out).kid, kr.primaryKid);
          if ('primary_kid' in c) eq('primary_kid', kr.primaryKid, c.primary_kid);
        }
      },
    },
    'keyring_v1.json': {
      parse(c) {
        const kr = Keyring.parse(c.text);
        if (c.expect === 'ok') {
          eq('primary', kr.primaryKid, c.primary);
          eq(
            'keys',
            JSON.stringify(kr.kids().map(({ kid, state }) => ({ kid, state }))),
            JSON.stringify(c.keys),
          );
        }
      },
      derive_key(c) {
        const k = Keyring.parse(c.keyring).deriveKey(c.purpose, c.owner, c.length);
        if (c.expect === 'ok') eq('key', toHex(k), c.key_hex);
      },
      from_secret(c) {
        const kr = Keyring.fromSecret(fromHex(c.secret_hex), c.kid);
        if (c.expect === 'ok') {
          need(c, 'owner', 'envelope', 'plaintext_hex');
          eq('plaintext', toHex(kr.open(c.owner, c.envelope, ctx(c))), c.plaintext_hex);
        }
      },
    },
    'api_keys_v1.json': {
      parse(c) {
        const k = kc.parseApiKey(c.key);
        if (c.expect === 'ok') {
          eq('prefix', k.prefix, c.prefix);
          eq('hint', k.hint, c.hint);
          eq('hash', k.hash, c.hash);
        }
      },
      hash(c) {
        const h = kc.hashApiKey(c.key);
        if (c.expect === 'ok') eq('hash', h, c.hash);
      },
      verify(c) {
        const r = kc.verifyApiKey(c.key, c.stored_hash);
        if (c.expect === 'ok') eq('result', r, c.result);
      },
    },
  };
}

/** The (file, op) pairs this runner knows, for reports. */
export function knownOps(kc) {
  return Object.fromEntries(Object.entries(handlers(kc)).map(([f, h]) => [f, Object.keys(h)]));
}

/**
 * Runs every case of every file. `files` maps a file name (e.g. "envelope_v1.json")
 * to its parsed JSON. Returns {passed, failed, failures: ["file/case: why", ...], perFile}.
 */
export function runVectors(kc, files) {
  const table = handlers(kc);
  const failures = [];
  const perFile = {};
  let passed = 0;
  for (const [file, doc] of Object.entries(files)) {
    perFile[file] = 0;
    const h = table[file];
    if (!h) {
      failures.push(`${file}: no runner for this file`);
      continue;
    }
    if (doc.version !== 1 || !Array.isArray(doc.cases) || doc.cases.length === 0) {
      failures.push(`${file}: not a version 1 vector file with cases`);
      continue;
    }
    for (const c of doc.cases) {
      const where = `${file}/${c.name} (${c.op})`;
      const run = Object.hasOwn(h, c.op) ? h[c.op] : undefined;
      if (!run) {
        failures.push(`${where}: unknown op`);
        continue;
      }
      try {
        run(c);
        if (c.expect !== 'ok') {
          failures.push(`${where}: expected ${c.expect}, but it succeeded`);
          continue;
        }
      } catch (e) {
        if (e instanceof Mismatch || e?.name !== 'KeycustodyError') {
          failures.push(`${where}: ${e instanceof Mismatch ? '' : 'unexpected '}${e?.stack ?? e}`);
          continue;
        }
        if (c.expect !== e.kind) {
          failures.push(`${where}: expected ${c.expect}, got ${e.kind} (${e.code}: ${e.message})`);
          continue;
        }
        if (e.code !== `KC_${e.kind.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase()}`) {
          failures.push(`${where}: code ${e.code} does not match kind ${e.kind}`);
          continue;
        }
      }
      passed++;
      perFile[file]++;
    }
  }
  return { passed, failed: failures.length, failures, perFile };
}
