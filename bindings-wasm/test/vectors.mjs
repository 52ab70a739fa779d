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
    // Lone surrogates (JSON \uXXXX escapes): every string argument refuses them (Malformed).
    'strings_v1.json': {
      seal(c) {
        const kr = Keyring.parse(c.keyring);
        const out = kr.seal(c.owner, c.plaintext, c.context);
        if (c.expect === 'ok') eq('plaintext', kr.openText(c.owner, out, c.context), c.plaintext);
      },
      open(c) {
        const pt = Keyring.parse(c.keyring).openText(c.owner, c.envelope, c.context);
        if (c.expect === 'ok') eq('plaintext', pt, c.plaintext);
      },
      derive_key(c) {
        const key = Keyring.parse(c.keyring).deriveKey(c.purpose, c.owner, c.length);
        if (c.expect === 'ok') eq('key', toHex(key), c.key_hex);
      },
      from_secret(c) {
        const kr = Keyring.fromSecret(c.secret, c.kid);
        if (c.expect === 'ok') eq('plaintext', kr.openText(c.owner, c.envelope, c.context), c.plaintext);
      },
    },
    // A tenant keyring under the platform keyring is an ordinary kc1 envelope with the fixed
    // context keycustody/v1/keyring (DESIGN §7): open + parse with the existing API.
    'wrapped_keyring_v1.json': {
      open_keyring(c) {
        const text = Keyring.parse(c.platform).openText(c.tenant, c.envelope, 'keycustody/v1/keyring');
        const k = Keyring.parse(text);
        if (c.expect === 'ok') eq('keyring', k.export(), c.keyring);
      },
    },
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
    'delivery_v1.json': {
      delivery_open(c) {
        const pt = kc.openDelivery(c.private_key, c.owner, c.blob);
        if (c.expect === 'ok') eq('plaintext', toHex(pt), c.plaintext_hex);
      },
      delivery_seal(c) {
        const blob = kc.sealForDelivery(c.public_key, c.owner, fromHex(c.plaintext_hex));
        if (c.expect === 'ok') {
          need(c, 'private_key');
          eq('plaintext', toHex(kc.openDelivery(c.private_key, c.owner, blob)), c.plaintext_hex);
        }
      },
      delivery_key_fingerprint(c) {
        const fp = kc.deliveryKeyFingerprint(c.public_key);
        if (c.expect === 'ok') eq('fingerprint', fp, c.fingerprint);
      },
      delivery_seal_pinned(c) {
        const blob = kc.sealForDelivery(c.public_key, c.owner, fromHex(c.plaintext_hex), c.expected_fingerprint);
        if (c.expect === 'ok') {
          need(c, 'private_key');
          eq('plaintext', toHex(kc.openDelivery(c.private_key, c.owner, blob)), c.plaintext_hex);
        }
      },
      // The binding does not expose the deterministic (caller-chosen IKM) seal: as the
      // vector file says, such runners open `blob` with `private_key` instead, and here
      // also check the key pair and a fresh randomised seal to the same public key.
      delivery_seal_with_ikm(c) {
        eq('public key of private key', kc.deliveryPublicKey(c.private_key), c.public_key);
        eq('plaintext', toHex(kc.openDelivery(c.private_key, c.owner, c.blob)), c.plaintext_hex);
        const fresh = kc.sealForDelivery(c.public_key, c.owner, fromHex(c.plaintext_hex));
        eq('fresh seal', toHex(kc.openDelivery(c.private_key, c.owner, fresh)), c.plaintext_hex);
      },
    },
    'jwt_v1.json': {
      jwt_sign(c) {
        const kr = Keyring.parse(c.keyring);
        const token = kr.signJwt(c.tenant, c.claims, c.ttl, c.now);
        if (c.expect === 'ok') {
          eq('token', token, c.token);
          if ('secret_hex' in c) eq('secret', toHex(kr.jwtSecret(c.tenant).secret), c.secret_hex);
        }
      },
      jwt_verify(c) {
        const claims = Keyring.parse(c.keyring).verifyJwt(c.tenant, c.token, {
          audience: c.audience,
          issuer: c.issuer,
          leeway: c.leeway,
          now: c.now,
        });
        if (c.expect === 'ok') eq('claims', JSON.stringify(claims), JSON.stringify(JSON.parse(c.claims)));
      },
    },
    'otp_v1.json': {
      code_verify(c) {
        const r = Keyring.parse(c.keyring).verifyCode(c.subject, c.code, c.record, c.now);
        if (c.expect === 'ok') {
          eq('status', r.status, c.status);
          eq('attemptsLeft', r.attemptsLeft, c.attempts_left);
          eq('record', r.record, c.record_after);
          eq('changed', r.changed, c.record_after !== c.record);
        }
      },
    },
    'scrub_v1.json': {
      scrub(c) {
        const out = kc.scrub(c.input);
        if (c.expect === 'ok') eq('output', out, c.output);
      },
    },
    'totp_v1.json': {
      totp_at(c) {
        const code = kc.totpAt(c.secret, c.now);
        if (c.expect === 'ok') eq('code', code, c.code);
      },
      totp_verify(c) {
        const step = kc.verifyTotpAt(c.secret, c.code, c.now, c.last_used_step);
        if (c.expect === 'ok') eq('step', step, c.step);
      },
      totp_uri(c) {
        const uri = kc.totpUri(c.secret, c.account, c.issuer);
        if (c.expect === 'ok') eq('uri', uri, c.uri);
      },
    },
    'validate_v1.json': {
      slug(c) {
        kc.validateSlug(c.input);
      },
      email(c) {
        kc.validateEmail(c.input);
      },
      pseudonymize(c) {
        const out = Keyring.parse(c.keyring).pseudonymize(c.input);
        if (c.expect === 'ok') eq('output', out, c.output);
      },
    },
    'webhook_v1.json': {
      stripe_sign(c) {
        const h = kc.signStripePayload(fromHex(c.payload_hex), c.secret, c.timestamp);
        if (c.expect === 'ok') eq('header', h, c.header);
      },
      stripe_verify(c) {
        const t = kc.verifyStripeSignature(fromHex(c.payload_hex), c.header, c.secret, c.tolerance, c.now);
        if (c.expect === 'ok') eq('timestamp', t, c.timestamp);
      },
      standard_sign(c) {
        const sig = kc.signStandardWebhook(fromHex(c.payload_hex), c.msg_id, c.timestamp, c.secret);
        if (c.expect === 'ok') eq('signature', sig, c.signature);
      },
      standard_verify(c) {
        const headers = { 'webhook-id': c.msg_id, 'webhook-timestamp': c.timestamp, 'webhook-signature': c.signature };
        const t = kc.verifyStandardWebhook(fromHex(c.payload_hex), headers, c.secret, c.tolerance, c.now);
        if (c.expect === 'ok') eq('timestamp', t, c.result_timestamp);
      },
      telegram_verify(c) {
        kc.verifyTelegramSecret(c.header, c.expected);
      },
      replay(c) {
        const g = new kc.ReplayGuard(c.capacity, c.ttl);
        c.steps.forEach((s, i) => {
          let got = 'ok';
          try {
            g.checkAndRecord(s.id, s.now);
          } catch (e) {
            if (e?.name !== 'KeycustodyError') throw e;
            got = e.kind;
          }
          eq(`step ${i} (${s.id} at ${s.now})`, got, s.expect);
        });
      },
    },
    'legacy_v1.json': {
      pbkdf2_gcm(c) {
        const pt = kc.decryptLegacyPbkdf2Gcm(c.blob, fromHex(c.password_hex), { iterations: c.iterations });
        if (c.expect === 'ok') eq('plaintext', toHex(pt), c.plaintext_hex);
      },
      openssl_enc(c) {
        const pt = kc.decryptOpensslEnc(fromHex(c.data_hex), fromHex(c.password_hex), c.iterations);
        if (c.expect === 'ok') eq('plaintext', toHex(pt), c.plaintext_hex);
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
// Ops whose binding API does not exist yet: issue 14's custody bindings (WrappedKeyring,
// two-step wrap, passphrase wrap) come in their own branch, which replaces this list by
// handlers. Listed by name, so a new op is still a failure; counted as pending, never passed.
const PENDING = new Set(['wrapped_keyring_v1.json:parse', 'wrapped_keyring_v1.json:open_dek', 'wrapped_keyring_v1.json:open_passphrase']);

export function runVectors(kc, files) {
  const table = handlers(kc);
  const failures = [];
  const perFile = {};
  let passed = 0;
  let pending = 0;
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
      if (PENDING.has(`${file}:${c.op}`)) {
        pending++;
        continue;
      }
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
  return { passed, pending, failed: failures.length, failures, perFile };
}
