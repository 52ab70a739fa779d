// Every tests/vectors/*.json case against the package, one test per case (formerly
// bindings-node/test/vectors.test.mjs and bindings-wasm/test/vectors.mjs). Dispatch is on
// (file, op): an unknown file or op is a FAILURE, never a skip. The async forms of the napi
// package run the same cases in bindings-node/test/async.test.mjs (through `handlers`).
import { assert, fromHex, toHex } from '../harness.mjs'

const eq = (what, got, want) => assert.equal(got, want, what)

/** Runs `f` (sync or async); a keycustody refusal's malformedKind must be the case's `detail`. */
async function detailed(c, f) {
  try {
    return await f()
  } catch (e) {
    if (c.detail !== undefined && e?.code !== undefined) eq(`malformedKind (${e.code})`, e.malformedKind, c.detail)
    throw e
  }
}

/** An opened wrapped keyring: the keyring, the text rewritten byte for byte, the parsed inputs. */
function checkWrapped(c, w, k) {
  eq('keyring', k.export(), c.keyring)
  eq('text', w.toText(), c.text)
  if (c.inputs) {
    eq('header', toHex(w.header), c.inputs.header)
    eq('owner', w.owner, c.inputs.owner)
    if (c.inputs.wrapped_dek) eq('wrapped_dek', toHex(w.wrappedDek), c.inputs.wrapped_dek)
  }
}

/** The handlers of each (file, op): run(c) returns the result an "ok" case is checked on. */
export function handlers(kc, ctx) {
  const { Keyring } = kc
  const ctxOf = (c) => fromHex(c.context_hex ?? '')
  return {
    // Lone surrogates (JSON \uXXXX escapes): every string argument refuses them (Malformed).
    'strings_v1.json': {
      seal(c) {
        const kr = Keyring.parse(c.keyring)
        const out = kr.seal(c.owner, c.plaintext, c.context)
        if (c.expect === 'ok') eq('plaintext', kr.openText(c.owner, out, c.context), c.plaintext)
      },
      open(c) {
        const kr = Keyring.parse(c.keyring)
        const pt = kr.openText(c.owner, c.envelope, c.context)
        if (c.expect === 'ok') {
          eq('plaintext', pt, c.plaintext)
          eq('bytes', new TextDecoder().decode(kr.open(c.owner, c.envelope, c.context)), c.plaintext)
        }
      },
      derive_key(c) {
        const key = Keyring.parse(c.keyring).deriveKey(c.purpose, c.owner, c.length)
        if (c.expect === 'ok') eq('key', toHex(key), c.key_hex)
      },
      from_secret(c) {
        const kr = Keyring.fromSecret(c.secret, c.kid)
        if (c.expect === 'ok') eq('plaintext', kr.openText(c.owner, c.envelope, c.context), c.plaintext)
      },
    },
    'envelope_v1.json': {
      open(c) {
        const pt = Keyring.parse(c.keyring).open(c.owner, c.envelope, ctxOf(c))
        if (c.expect === 'ok') {
          assert.ok(ctx.isBytes(pt), `a ${ctx.conv.bytes_class}`)
          eq('plaintext', toHex(pt), c.plaintext_hex)
        }
      },
      inspect(c) {
        const i = kc.inspect(c.envelope)
        if (c.expect === 'ok') assert.deepEqual(i, { version: 1, kid: c.kid, plaintextLen: c.plaintext_len })
      },
      needs_rewrap(c) {
        const r = Keyring.parse(c.keyring).needsRewrap(c.envelope)
        if (c.expect === 'ok') eq('result', r, c.result)
      },
      rewrap(c) {
        const kr = Keyring.parse(c.keyring)
        const out = kr.rewrap(c.owner, c.envelope, ctxOf(c))
        if (c.expect === 'ok') {
          eq('rewrapped plaintext', toHex(kr.open(c.owner, out, ctxOf(c))), c.plaintext_hex)
          eq('rewrapped kid', kc.inspect(out).kid, kr.primaryKid)
          if ('primary_kid' in c) eq('primary_kid', kr.primaryKid, c.primary_kid)
          eq('needs rewrap after', kr.needsRewrap(out), false)
        }
      },
    },
    'keyring_v1.json': {
      parse(c) {
        const kr = Keyring.parse(c.text)
        if (c.expect === 'ok') {
          eq('primary', kr.primaryKid, c.primary)
          assert.deepEqual(kr.kids().map(({ kid, state }) => ({ kid, state })), c.keys)
        }
      },
      derive_key(c) {
        const k = Keyring.parse(c.keyring).deriveKey(c.purpose, c.owner, c.length)
        if (c.expect === 'ok') eq('key', toHex(k), c.key_hex)
      },
      from_secret(c) {
        const kr = Keyring.fromSecret(fromHex(c.secret_hex), c.kid)
        if (c.expect === 'ok') {
          for (const f of ['owner', 'envelope', 'plaintext_hex']) assert.ok(f in c, `vector lacks field ${f}`)
          eq('primary kid', kr.primaryKid, c.kid)
          eq('plaintext', toHex(kr.open(c.owner, c.envelope, ctxOf(c))), c.plaintext_hex)
        }
      },
    },
    'api_keys_v1.json': {
      parse(c) {
        const k = kc.parseApiKey(c.key)
        if (c.expect === 'ok') assert.deepEqual({ ...k }, { prefix: c.prefix, hint: c.hint, hash: c.hash })
      },
      hash(c) {
        const h = kc.hashApiKey(c.key)
        if (c.expect === 'ok') eq('hash', h, c.hash)
      },
      verify(c) {
        const r = kc.verifyApiKey(c.key, c.stored_hash)
        if (c.expect === 'ok') eq('result', r, c.result)
      },
    },
    'delivery_v1.json': {
      delivery_open(c) {
        const pt = kc.openDelivery(c.private_key, c.owner, c.blob)
        if (c.expect === 'ok') eq('plaintext', toHex(pt), c.plaintext_hex)
      },
      delivery_seal(c) {
        const blob = kc.sealForDelivery(c.public_key, c.owner, fromHex(c.plaintext_hex))
        if (c.expect === 'ok') {
          // Sealing is randomised: the result must open with the private key.
          assert.match(blob, /^kcd1\./)
          assert.ok(c.private_key, 'an ok seal case carries private_key')
          eq('plaintext', toHex(kc.openDelivery(c.private_key, c.owner, blob)), c.plaintext_hex)
        }
      },
      delivery_key_fingerprint(c) {
        const fp = kc.deliveryKeyFingerprint(c.public_key)
        if (c.expect === 'ok') eq('fingerprint', fp, c.fingerprint)
      },
      delivery_seal_pinned(c) {
        const blob = kc.sealForDelivery(c.public_key, c.owner, fromHex(c.plaintext_hex), c.expected_fingerprint)
        if (c.expect === 'ok') {
          assert.match(blob, /^kcd1\./)
          assert.ok(c.private_key, 'an ok pinned seal case carries private_key')
          eq('plaintext', toHex(kc.openDelivery(c.private_key, c.owner, blob)), c.plaintext_hex)
        }
      },
      // The bindings do not expose the deterministic (caller-chosen IKM) seal: as the vector
      // file says, such runners open `blob` with `private_key` instead, and here also check
      // the key pair and a fresh randomised seal to the same public key.
      delivery_seal_with_ikm(c) {
        eq('public key of private key', kc.deliveryPublicKey(c.private_key), c.public_key)
        eq('plaintext', toHex(kc.openDelivery(c.private_key, c.owner, c.blob)), c.plaintext_hex)
        const fresh = kc.sealForDelivery(c.public_key, c.owner, fromHex(c.plaintext_hex))
        eq('fresh seal', toHex(kc.openDelivery(c.private_key, c.owner, fresh)), c.plaintext_hex)
      },
    },
    'jwt_v1.json': {
      jwt_sign(c) {
        const kr = Keyring.parse(c.keyring)
        const token = kr.signJwt(c.tenant, c.claims, c.ttl, c.now)
        if (c.expect === 'ok') {
          eq('token', token, c.token)
          if ('secret_hex' in c) eq('secret', toHex(kr.jwtSecret(c.tenant).secret), c.secret_hex)
        }
      },
      jwt_verify(c) {
        const claims = Keyring.parse(c.keyring).verifyJwt(c.tenant, c.token, {
          audience: c.audience,
          issuer: c.issuer,
          leeway: c.leeway,
          now: c.now,
        })
        if (c.expect === 'ok') assert.deepEqual(claims, JSON.parse(c.claims))
      },
    },
    'otp_v1.json': {
      code_verify(c) {
        const r = Keyring.parse(c.keyring).verifyCode(c.subject, c.code, c.record, c.now)
        if (c.expect === 'ok') {
          eq('status', r.status, c.status)
          eq('attemptsLeft', r.attemptsLeft, c.attempts_left)
          eq('record', r.record, c.record_after)
          eq('changed', r.changed, c.record_after !== c.record)
        }
      },
    },
    'scrub_v1.json': {
      scrub(c) {
        const out = kc.scrub(c.input)
        if (c.expect === 'ok') eq('output', out, c.output ?? c.input)
      },
    },
    'totp_v1.json': {
      totp_at(c) {
        const code = kc.totpAt(c.secret, c.now)
        if (c.expect === 'ok') eq('code', code, c.code)
      },
      totp_verify(c) {
        const step = kc.verifyTotpAt(c.secret, c.code, c.now, c.last_used_step)
        if (c.expect === 'ok') eq('step', step, c.step)
      },
      totp_uri(c) {
        const uri = kc.totpUri(c.secret, c.account, c.issuer)
        if (c.expect === 'ok') eq('uri', uri, c.uri)
      },
    },
    'validate_v1.json': {
      slug(c) {
        eq('result', kc.validateSlug(c.input), undefined)
      },
      email(c) {
        eq('result', kc.validateEmail(c.input), undefined)
      },
      pseudonymize(c) {
        const out = Keyring.parse(c.keyring).pseudonymize(c.input)
        if (c.expect === 'ok') eq('output', out, c.output)
      },
    },
    'webhook_v1.json': {
      stripe_sign(c) {
        const h = kc.signStripePayload(fromHex(c.payload_hex), c.secret, c.timestamp)
        if (c.expect === 'ok') eq('header', h, c.header)
      },
      stripe_verify(c) {
        const t = kc.verifyStripeSignature(fromHex(c.payload_hex), c.header, c.secret, c.tolerance, c.now)
        if (c.expect === 'ok') eq('timestamp', t, c.timestamp)
      },
      standard_sign(c) {
        const sig = kc.signStandardWebhook(fromHex(c.payload_hex), c.msg_id, c.timestamp, c.secret)
        if (c.expect === 'ok') eq('signature', sig, c.signature)
      },
      standard_verify(c) {
        const headers = { 'webhook-id': c.msg_id, 'webhook-timestamp': c.timestamp, 'webhook-signature': c.signature }
        const t = kc.verifyStandardWebhook(fromHex(c.payload_hex), headers, c.secret, c.tolerance, c.now)
        if (c.expect === 'ok') eq('timestamp', t, c.result_timestamp)
      },
      telegram_verify(c) {
        eq('result', kc.verifyTelegramSecret(c.header, c.expected), undefined)
      },
      replay(c) {
        const g = new kc.ReplayGuard(c.capacity, c.ttl)
        c.steps.forEach((s, i) => {
          let got = 'ok'
          try {
            g.checkAndRecord(s.id, s.now)
          } catch (e) {
            if (e?.code === undefined) throw e
            ctx.assertKc(e, e.kind, 'any')
            got = e.kind
          }
          eq(`step ${i} (${s.id} at ${s.now})`, got, s.expect)
        })
      },
    },
    // Tenant keyrings under the platform keyring (Keyring#openKeyring) and wrapped keyrings
    // (WrappedKeyring: parse, openWithDek, openWithPassphrase: a Promise in napi, synchronous in
    // wasm, so awaited); a `detail` is the refusal's malformedKind; `inputs` (hex) are checked
    // against the parsed text.
    // The audit chain (AuditChain, AuditEntry, AuditCheckpoint; docs/audit.md): an AuditBroken
    // refusal names the case's seq (`auditPosition`) and reason; `audit_key` is checked with an
    // independent HMAC (WebCrypto) under key_hex that the chain must accept.
    'audit_v1.json': (() => {
      const chainOf = (c) => new kc.AuditChain(Keyring.parse(c.keyring), c.scope)
      const entry = (l) => (l === null || l === undefined ? null : kc.AuditEntry.parse(l))
      async function broken(c, f) {
        try {
          return await detailed(c, f)
        } catch (e) {
          if (e?.code === 'KC_AUDIT_BROKEN') {
            eq('auditPosition', e.auditPosition, c.seq)
            assert.ok(e.message.endsWith(`: ${c.reason}`), `reason: ${e.message} (want ${c.reason})`)
          }
          throw e
        }
      }
      return {
        async audit_key(c) {
          const body = `{"seq":1,"ts":1,"kid":${c.kid},"op":"k","names":[],"prev":"${'0'.repeat(64)}"}`
          const key = await crypto.subtle.importKey('raw', fromHex(c.key_hex), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])
          const mac = toHex(new Uint8Array(await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(body))))
          const line = `${body.slice(0, -1)},"mac":"${mac}"}`
          chainOf(c).verifyEntry(kc.AuditEntry.parse(line))
          const other = `${body.slice(0, -1)},"mac":"${mac.slice(0, -1)}${mac.endsWith('0') ? '1' : '0'}"}`
          assert.throws(() => chainOf(c).verifyEntry(kc.AuditEntry.parse(other)))
        },
        async append(c) {
          const e = await broken(c, () => chainOf(c).next(entry(c.prev), c.event, c.ts))
          eq('entry', e.toJson(), c.entry)
          eq('parsed back', kc.AuditEntry.parse(e.toJson()).toJson(), c.entry)
        },
        async chain(c) {
          const run = await broken(c, () => c.entries.map((l) => kc.AuditEntry.parse(l)))
          const r = await broken(c, () => chainOf(c).verifyRun(run, entry(c.after)))
          assert.deepEqual(
            { entries: r.entries, first_seq: r.firstSeq, last_seq: r.lastSeq, head_mac: r.headMac },
            c.report,
          )
          assert.deepEqual(run.map((e) => e.toJson()), c.entries, 'byte for byte')
        },
        async checkpoint(c) {
          const ch = chainOf(c)
          const cp = await broken(c, () => ch.checkpoint(entry(c.head), c.ts))
          eq('checkpoint', cp.toText(), c.checkpoint)
          ch.verifyCheckpoint(kc.AuditCheckpoint.parse(cp.toText()))
        },
        async check_checkpoint(c) {
          const ch = chainOf(c)
          await broken(c, () => {
            const cp = kc.AuditCheckpoint.parse(c.checkpoint)
            const run = c.entries.map((l) => kc.AuditEntry.parse(l))
            const r = ch.verifyRun(run, null)
            ch.checkAgainst(cp, r, cp.seq >= 1 ? (run[cp.seq - 1] ?? null) : null)
          })
        },
      }
    })(),
    'wrapped_keyring_v1.json': {
      async open_keyring(c) {
        const k = await detailed(c, () => Keyring.parse(c.platform).openKeyring(c.tenant, c.envelope))
        if (c.expect === 'ok') eq('keyring', k.export(), c.keyring)
      },
      async parse(c) {
        const w = await detailed(c, () => kc.WrappedKeyring.parse(c.text))
        if (c.expect === 'ok') eq('text', w.toText(), c.text)
      },
      async open_dek(c) {
        const w = await detailed(c, () => kc.WrappedKeyring.parse(c.text))
        const k = await detailed(c, () => w.openWithDek(fromHex(c.dek)))
        if (c.expect === 'ok') checkWrapped(c, w, k)
      },
      async open_passphrase(c) {
        const w = await detailed(c, () => kc.WrappedKeyring.parse(c.text))
        const k = await detailed(c, () => w.openWithPassphrase(c.passphrase))
        if (c.expect === 'ok') checkWrapped(c, w, k)
      },
    },
    'legacy_v1.json': {
      pbkdf2_gcm(c) {
        const pt = kc.decryptLegacyPbkdf2Gcm(c.blob, fromHex(c.password_hex), { iterations: c.iterations })
        if (c.expect === 'ok') eq('plaintext', toHex(pt), c.plaintext_hex)
      },
      openssl_enc(c) {
        const pt = kc.decryptOpensslEnc(fromHex(c.data_hex), fromHex(c.password_hex), c.iterations)
        if (c.expect === 'ok') eq('plaintext', toHex(pt), c.plaintext_hex)
      },
    },
  }
}

/** Runs one case through `run` (sync or async); an error must be the case's `expect` kind. */
export async function runCase(ctx, c, run) {
  let threw = false
  let err
  try {
    await run(c)
  } catch (e) {
    threw = true
    err = e
  }
  if (!threw) {
    assert.equal(c.expect, 'ok', `expected ${c.expect}, but the call succeeded`)
    return
  }
  if (c.expect === 'ok' || err?.code === undefined) throw err
  ctx.assertKc(err, c.expect, 'any')
}

export default async function register(test, ctx) {
  const files = await ctx.host.vectors()
  const names = Object.keys(files).sort()
  test('the vector directory holds the core files', () => {
    for (const f of ['envelope_v1.json', 'keyring_v1.json', 'api_keys_v1.json', 'strings_v1.json']) {
      assert.ok(names.includes(f), `tests/vectors/${f} missing`)
    }
  })
  const table = handlers(ctx.kc, ctx)
  for (const f of names) {
    const doc = files[f]
    test(`${f} is a version 1 file with cases and a runner`, () => {
      assert.equal(doc.version, 1)
      assert.ok(Array.isArray(doc.cases) && doc.cases.length > 0, 'no cases')
      assert.ok(table[f], `no runner for vector file ${f}`)
    })
    for (const c of doc.cases ?? []) {
      test(`${f} ${c.name} (${c.op})`, async () => {
        const h = table[f]
        assert.ok(h, `no runner for vector file ${f}`)
        assert.ok(Object.hasOwn(h, c.op), `unknown op "${c.op}" in ${f}`)
        await runCase(ctx, c, h[c.op])
      })
    }
  }
}
