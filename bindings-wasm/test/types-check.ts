// Compiled (never run) by types.test.mjs with `tsc --strict`: the generated index.d.ts must
// type every export as documented, and refuse wrong argument types.
import init, {
  Keyring, ReplayGuard, inspect, inspectBinary, constantTimeEqual, randomToken, randomBase62,
  inviteCode, randomString, generateApiKey, hashApiKey, verifyApiKey, parseApiKey, generateDeliveryKeypair,
  deriveDeliveryKeypair, deliveryPublicKey, deliveryKeyFingerprint, sealForDelivery, openDelivery, signStripePayload,
  verifyStripeSignature, signStandardWebhook, verifyStandardWebhook, generateStandardWebhookSecret,
  verifyTelegramSecret, generateTotpSecret, totpUri, totpAt, totpRawAt, totpStep, verifyTotpAt,
  validateSlug, validateEmail, decryptLegacyPbkdf2Gcm, decryptOpensslEnc,
  WrappedKeyring, PendingWrap, TenantKeyringCache, wrapWithPassphrase, isWrappedKeyring,
  AuditChain, AuditEntry, AuditCheckpoint, AuditReport,
} from 'keycustody-wasm';
// scrub is the companion module's (keycustody-wasm/scrub: its own wasm, with the regex stack).
import initScrub, { scrub } from 'keycustody-wasm/scrub';
import * as scrubInline from 'keycustody-wasm/scrub/inline';
import type {
  KeycustodyError, EnvelopeInfo, KeyInfo, GeneratedApiKey, ParsedApiKey, DeliveryKeypair,
  IssuedCode, CodeCheck, JwtSecret, EncryptionContext, AuditEventInput,
} from 'keycustody-wasm';

// The audit chain (issue 15 item 2): every audit export with its types.
export function audit(kr: Keyring): void {
  const chain = new AuditChain(kr, 'tenant:acme');
  const scope: string = chain.scope;
  const ev: AuditEventInput = { op: 'secret.read', names: ['K'], actor: 'u', tenant: 't', outcome: 'ok', route: null };
  const first: AuditEntry = chain.next(null, ev, 1700000000);
  const second: AuditEntry = chain.next(first, { op: 'x' });
  chain.verifyEntry(second);
  const rep: AuditReport = chain.verifyRun([first, second]);
  const rep2: AuditReport = chain.verifyRun([second], first);
  const nums: number = rep.entries + rep.firstSeq + rep.lastSeq + rep2.entries + first.seq + first.ts + first.kid;
  const texts: string = rep.headMac + first.op + first.prev + first.mac + first.toJson() + first.names.join();
  const opt: (string | null)[] = [first.route, first.actor, first.tenant, first.outcome];
  const cp: AuditCheckpoint = chain.checkpoint(second, 1700000000);
  const cp2: AuditCheckpoint = AuditCheckpoint.parse(cp.toText());
  chain.verifyCheckpoint(cp2);
  chain.checkAgainst(cp, rep, second);
  chain.checkAgainst(chain.checkpoint(null), chain.verifyRun([]));
  const cpParts: string = cp.scope + cp.head + cp.mac + String(cp.seq + cp.ts + cp.kid);
  const parsed: AuditEntry = AuditEntry.parse(new Uint8Array(0));
  // @ts-expect-error an event needs op
  chain.next(null, { names: ['a'] });
  // @ts-expect-error entries are AuditEntry objects
  chain.verifyRun(['{}']);
  void [scope, nums, texts, opt, cpParts, parsed];
}

// Custody (issue 14 item 6): every custody export with its types.
export function custody(kr: Keyring): void {
  const row: string = kr.sealKeyring('t', Keyring.generate());
  const tenant: Keyring = kr.openKeyring('t', row);
  const p = new PendingWrap(kr, 'gcp-kms', 'projects/p/keys/k', 't');
  const dek: Uint8Array = p.dek;
  const header: Uint8Array = p.header;
  const ctx: EncryptionContext = p.encryptionContext;
  const parts: string = p.kekType + p.kekKey + p.owner;
  const w: WrappedKeyring = p.finish(new Uint8Array([1]));
  const w2: WrappedKeyring = WrappedKeyring.parse(w.toText());
  w2.expectOwner('t');
  const opened: Keyring = w2.openWithDek(dek);
  const blob: Uint8Array = w2.wrappedDek;
  const owner: string = w2.owner + w2.kekType + w2.kekKey + w2.encryptionContext.owner;
  const pw: WrappedKeyring = wrapWithPassphrase(kr, 'pass', 't', 8, 1, 1);
  const back: Keyring = pw.openWithPassphrase(new Uint8Array(4));
  const sniff: boolean = isWrappedKeyring(w.toText());
  const cache = new TenantKeyringCache(10, 60);
  const cached: Keyring = cache.insert('t', tenant, 0);
  const hit: Keyring | undefined = cache.get('t');
  cache.invalidate('t');
  cache.clear();
  const sizes: number = cache.size + cache.capacity + cache.ttl;
  // @ts-expect-error a keyring argument must be a Keyring
  new PendingWrap('kr', 'aws-kms', 'k', '');
  // @ts-expect-error the DEK is bytes
  w2.openWithDek('dek');
  // @ts-expect-error there is no public constructor argument
  new WrappedKeyring(w2);
  void [header, ctx, parts, opened, blob, owner, back, sniff, cached, hit, sizes, w.wrappedDek];
}

export async function all(): Promise<void> {
  await init();
  const kr: Keyring = Keyring.generate();
  const kr2: Keyring = Keyring.parse(kr.export());
  const kr3: Keyring = Keyring.fromSecret(new Uint8Array(32), 2);
  const kid: number = kr.addKey() + kr.addKeyWithSecret(new Uint8Array(32)) + kr.addKeyWithSecret('s'.repeat(32)) + kr.rotate() + kr.primaryKid;
  kr.promote(kid);
  kr.retire(1);
  kr.remove(1);
  const infos: KeyInfo[] = kr.kids();
  const state: string = kr.stateOf(2);
  const env: string = kr.seal('t', 'x', 'ctx');
  const bin: Uint8Array = kr.sealBinary('t', new Uint8Array(1));
  const pt: Uint8Array = kr.open('t', env, new Uint8Array(0));
  const pt2: Uint8Array = kr.openBinary('t', bin);
  const text: string = kr.openText('t', env, 'ctx');
  const needs: boolean = kr.needsRewrap(env);
  const env2: string = kr.rewrap('t', env);
  const key: Uint8Array = kr.deriveKey('purpose', 't', 32);
  const jwt: string = kr.signJwt('acme', { sub: 'x' }, 600, 1_700_000_000);
  const claims: Record<string, unknown> = kr.verifyJwt('acme', jwt, { audience: 'api', now: 1 });
  const js: JwtSecret = kr.jwtSecret('acme');
  const issued: IssuedCode = kr.issueCode('s', 1);
  const check: CodeCheck = kr.verifyCode('s', issued.code, issued.record, 2);
  const p: string = kr.pseudonymize('v') + kr.pseudonymizeFor('t', 'v') + kr.toString();
  const info: EnvelopeInfo = inspect(env);
  const info2: EnvelopeInfo = inspectBinary(bin);
  const eq: boolean = constantTimeEqual('a', new Uint8Array(1));
  const tokens: string = randomToken() + randomToken(16) + randomBase62(8) + inviteCode(8) + randomString('ab', 4);
  const g: GeneratedApiKey = generateApiKey('obee');
  const h: string = hashApiKey(g.key);
  const ok: boolean = verifyApiKey(g.key, h);
  const parsed: ParsedApiKey = parseApiKey(g.key);
  const dk: DeliveryKeypair = generateDeliveryKeypair();
  const dk2: DeliveryKeypair = deriveDeliveryKeypair('k'.repeat(32));
  const pk: string = deliveryPublicKey(dk.privateKey);
  const blob: string = sealForDelivery(pk, 'acme', 'sk');
  const fp: string = deliveryKeyFingerprint(pk);
  const pinned: string = sealForDelivery(pk, 'acme', 'sk', fp);
  const opened: Uint8Array = openDelivery(dk.privateKey, 'acme', blob);
  const header: string = signStripePayload('{}', 'whsec', 1);
  const ts: number = verifyStripeSignature('{}', header, 'whsec', 300, 1) + verifyStripeSignature('{}', header, 'w');
  const sig: string = signStandardWebhook('{}', 'msg', 1, 'whsec_x');
  const ts2: number =
    verifyStandardWebhook('{}', { 'webhook-id': 'msg', 'webhook-timestamp': '1', 'webhook-signature': sig }, 'whsec_x', 300, 1) +
    verifyStandardWebhook('{}', new Headers({ 'webhook-id': 'msg' }), 'whsec_x') +
    verifyStandardWebhook('{}', { 'webhook-signature': [sig], host: undefined }, 'whsec_x');
  // @ts-expect-error headers is a header mapping, not the message id
  verifyStandardWebhook('{}', 'msg', '1', sig, 'whsec_x');
  const secret: string = generateStandardWebhookSecret();
  verifyTelegramSecret('a', 'a');
  const guard = new ReplayGuard(10, 60);
  guard.checkAndRecord('evt', 1);
  const sizes: number = guard.size + guard.capacity + new ReplayGuard().capacity;
  const totp: string = generateTotpSecret();
  const uri: string = totpUri(totp, 'a', 'b');
  const code: string = totpAt(totp, 1) + totpRawAt('k', 59, 30, 8, 'SHA1') + totpRawAt(new Uint8Array(20)) + totpRawAt('k', 59);
  const step: number = verifyTotpAt(totp, code, 1, 0) + verifyTotpAt(totp, code) + totpStep(1) + totpStep();
  const scrubbed: string = scrub('text') + scrubInline.scrub('text');
  validateSlug('acme');
  validateEmail('a@b.co');
  const legacy: Uint8Array = decryptLegacyPbkdf2Gcm('b64', 'pw', { iterations: 1000 });
  const legacy2: Uint8Array = decryptOpensslEnc(new Uint8Array(0), 'pw', 1000);
  try {
    kr.open('t', env);
  } catch (e) {
    const err = e as KeycustodyError;
    const c: string =
      err.code + err.kind + (err.malformedKind ?? err.argument ?? err.envVar ?? err.ioKind ?? '') + String(err.kid ?? err.limit ?? err.claim);
    void c;
  }
  // Wrong types are compile errors.
  // @ts-expect-error owner must be a string
  kr.seal(1, 'x');
  // @ts-expect-error envelope must be a string
  kr.open('t', new Uint8Array(1));
  // @ts-expect-error kid must be a number
  kr.promote('2');
  // @ts-expect-error a result is a Uint8Array, not a string
  const wrong: string = kr.open('t', env);
  // @ts-expect-error primaryKid is read-only
  kr.primaryKid = 3;
  // @ts-expect-error addKey takes no secret: addKeyWithSecret does
  kr.addKey(new Uint8Array(32));
  // @ts-expect-error addKeyWithSecret needs the secret
  kr.addKeyWithSecret();
  // @ts-expect-error there is no public constructor argument
  new Keyring(kr);
  // @ts-expect-error the typed entries of keyring.js are not part of the API
  void import('keycustody-wasm').then((m) => m.__keyringSealText);
  void [kr2, kr3, infos, state, pt, pt2, text, needs, env2, key, claims, js, check, p, info, info2, eq,
    tokens, ok, parsed, dk2, fp, pinned, opened, ts, ts2, secret, sizes, uri, step, scrubbed, legacy, legacy2, wrong];
}
