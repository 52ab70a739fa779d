// keycustody-wasm in a real headless Chromium: the vector suite and the garbage suite run
// in the page, envelopes and delivery blobs cross between the page and the Rust core both
// ways, and the README's browser snippet runs as written.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServer, launchChromium, rustExample, buildRustExamples, REPO } from './support.mjs';

let server;
let browser;
let page;
let dir;
const received = {};
let vmKeys; // the "tenant VM" delivery keypair, made by Rust

/** The README's `wasm` section, and its one ```html block. */
async function readmeHtmlSnippet() {
  const readme = await readFile(path.join(REPO, 'README.md'), 'utf8');
  const section = readme.split('<!-- BEGIN wasm -->')[1]?.split('<!-- END wasm -->')[0] ?? '';
  const blocks = [...section.matchAll(/```html\n([\s\S]*?)```/g)].map((m) => m[1]);
  assert.equal(blocks.length, 1, 'the README wasm section has one html block');
  return blocks[0];
}

before(async () => {
  buildRustExamples();
  dir = await mkdtemp(path.join(tmpdir(), 'kc-wasm-browser-'));
  const kp = rustExample('platform_interop', ['delivery-keypair']);
  assert.equal(kp.status, 0, kp.stderr);
  const [privateKey, publicKey] = kp.stdout.toString().trim().split('\n');
  vmKeys = { privateKey, publicKey, file: path.join(dir, 'vm.key') };
  await writeFile(vmKeys.file, privateKey, { mode: 0o600 });
  const snippet = await readmeHtmlSnippet();
  server = await startServer({
    'GET /readme.html': async () => [200, 'text/html; charset=utf-8', snippet],
    'GET /api/tenants/acme/delivery-key': async () => [200, 'text/plain', vmKeys.publicKey],
    'POST /api/tenants/acme/secrets/anthropic_key': async (req, body) => {
      received.anthropic_key = body.toString();
      return [204, 'text/plain', ''];
    },
  });
  browser = await launchChromium();
  page = browser.page;
  await page.goto(`${server.origin}/harness.html`);
  const ok = await page.evaluate(async () => {
    const kc = await import('keycustody-wasm');
    await kc.default(); // fetches pkg/keycustody_wasm_bg.wasm (application/wasm, streaming)
    window.kc = kc;
    return typeof kc.Keyring.generate === 'function';
  });
  assert.equal(ok, true);
});

after(async () => {
  await browser?.close();
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('the page really is Chromium, with WebAssembly and crypto.getRandomValues', async () => {
  const ua = await page.evaluate(() => navigator.userAgent);
  assert.match(ua, /Chrome\/\d+/);
  assert.equal(await page.evaluate(() => typeof WebAssembly.instantiateStreaming), 'function');
});

test('every vector file passes in the page', async () => {
  const r = await page.evaluate(async () => {
    const { runVectors } = await import('/test/vectors.mjs');
    const names = await (await fetch('/vectors/index.json')).json();
    const files = {};
    let total = 0;
    for (const n of names) {
      files[n] = await (await fetch(`/vectors/${n}`)).json();
      total += files[n].cases.length;
    }
    return { ...runVectors(window.kc, files), total, names };
  });
  assert.deepEqual(r.failures, []);
  assert.ok(r.names.includes('envelope_v1.json') && r.names.length >= 3);
  assert.equal(r.passed + r.pending, r.total);
});

test('the garbage suite passes in the page', async () => {
  const r = await page.evaluate(async () => {
    const { garbageSuite } = await import('/test/garbage.mjs');
    const failures = [];
    let ran = 0;
    for (const [name, run] of garbageSuite(window.kc)) {
      ran++;
      try {
        run();
      } catch (e) {
        failures.push(`${name}: ${e.message}`);
      }
    }
    return { failures, ran };
  });
  assert.deepEqual(r.failures, []);
  assert.ok(r.ran > 30);
});

test('kc1 envelopes cross between keycustody-wasm and the browser WebCrypto', async () => {
  const failures = await page.evaluate(async () => {
    const { crossCheck } = await import('/test/crosscheck.mjs');
    return crossCheck(window.kc);
  });
  assert.deepEqual(failures, []);
});

const CASES = [
  { owner: 'tenant-0001', context: 'openrouter_key', text: 'sk-or-v1-0123456789abcdef' },
  { owner: 'tenant-ü', context: '', text: 'ключ 🔑' },
  { owner: 'o'.repeat(1024), context: 'x'.repeat(300), text: '' },
  { owner: 'tenant-2', context: 'bot_token', bytes: [0, 1, 2, 253, 254, 255] },
  // Across several block counts and a long text envelope.
  { owner: 'tenant-3', context: 'c', bytes: Array.from({ length: 64 }, (_, i) => (i * 37) & 255) },
  { owner: 'tenant-4', context: 'c', bytes: Array.from({ length: 1000 }, (_, i) => (i * 11) & 255) },
  { owner: 'tenant-5', context: 'c', bytes: Array.from({ length: 100000 }, (_, i) => (i * 7) & 255) },
];
const bytesOf = (c) => (c.bytes ? Buffer.from(c.bytes) : Buffer.from(c.text, 'utf8'));

test('envelopes sealed in the page open in Rust', async () => {
  // The page has Uint8Array.prototype.toBase64, so its seal builds the envelope text in JS
  // (src/lib.rs, kc_envelope_text): Rust opening them checks that text.
  assert.equal(await page.evaluate(() => typeof Uint8Array.prototype.toBase64), 'function');
  const { keyring, envelopes } = await page.evaluate((cases) => {
    const kr = window.kc.Keyring.generate();
    kr.rotate(); // seal under kid 2, with kid 1 decrypt-only
    const envelopes = cases.map((c) =>
      kr.seal(c.owner, c.bytes ? new Uint8Array(c.bytes) : c.text, c.context),
    );
    return { keyring: kr.export(), envelopes };
  }, CASES);
  const file = path.join(dir, 'page.keyring');
  await writeFile(file, keyring, { mode: 0o600 });
  CASES.forEach((c, i) => {
    const r = rustExample('interop', ['open', file, c.owner, c.context], envelopes[i]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.stdout, bytesOf(c));
  });
  // Rust refuses a wrong context the same way the page would.
  const bad = rustExample('interop', ['open', file, CASES[0].owner, 'other'], envelopes[0]);
  assert.equal(bad.status, 1);
  assert.equal(bad.stderr.trim(), 'DecryptFailed');
});

test('envelopes sealed by Rust open in the page', async () => {
  const keyring = await page.evaluate(() => window.kc.Keyring.generate().export());
  const file = path.join(dir, 'rust.keyring');
  await writeFile(file, keyring, { mode: 0o600 });
  const envelopes = CASES.map((c) => {
    const r = rustExample('interop', ['seal', file, c.owner, c.context], bytesOf(c));
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.toString();
  });
  const opened = await page.evaluate(
    ({ keyring, cases, envelopes }) => {
      const kr = window.kc.Keyring.parse(keyring);
      const out = cases.map((c, i) => Array.from(kr.open(c.owner, envelopes[i], c.context)));
      let wrong;
      try {
        kr.open('someone-else', envelopes[0], cases[0].context);
      } catch (e) {
        wrong = e.code;
      }
      return { out, wrong };
    },
    { keyring, cases: CASES, envelopes },
  );
  CASES.forEach((c, i) => assert.deepEqual(Buffer.from(opened.out[i]), bytesOf(c)));
  assert.equal(opened.wrong, 'KC_DECRYPT_FAILED');
});

test('the page seals an LLM key for delivery to a Rust-made public key; Rust opens it', async () => {
  const secret = 'sk-ant-api03-browser-to-vm-0123456789';
  const blob = await page.evaluate(
    ({ pk, secret }) => window.kc.sealForDelivery(pk, 'acme', secret),
    { pk: vmKeys.publicKey, secret },
  );
  assert.match(blob, /^kcd1\./);
  const r = rustExample('platform_interop', ['delivery-open', vmKeys.file, 'acme'], blob);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.toString(), secret);
  const other = rustExample('platform_interop', ['delivery-open', vmKeys.file, 'globex'], blob);
  assert.equal(other.status, 1);
  assert.equal(other.stderr.trim(), 'DecryptFailed');
});

test('Rust seals for delivery to a page-made public key; the page opens it', async () => {
  const pk = await page.evaluate(() => {
    window.deliveryKeys = window.kc.generateDeliveryKeypair();
    return window.deliveryKeys.publicKey;
  });
  const r = rustExample('platform_interop', ['delivery-seal', pk, 'acme'], 'bot-token:123');
  assert.equal(r.status, 0, r.stderr);
  const text = await page.evaluate(
    (blob) => new TextDecoder().decode(window.kc.openDelivery(window.deliveryKeys.privateKey, 'acme', blob)),
    r.stdout.toString().trim(),
  );
  assert.equal(text, 'bot-token:123');
});

test("the README's browser snippet works as written", async () => {
  const p = await browser.context.newPage();
  const errors = [];
  p.on('pageerror', (e) => errors.push(e.message));
  await p.goto(`${server.origin}/readme.html`);
  const key = 'sk-ant-api03-from-the-readme-snippet';
  await p.waitForFunction(() => document.querySelector('#status')?.textContent === 'ready');
  await p.fill('input[name=key]', key);
  await p.click('button');
  await p.waitForFunction(() => document.querySelector('#status')?.textContent === 'saved');
  assert.equal(await p.inputValue('input[name=key]'), '', 'the form is cleared');
  assert.match(received.anthropic_key, /^kcd1\./);
  const r = rustExample('platform_interop', ['delivery-open', vmKeys.file, 'acme'], received.anthropic_key);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.toString(), key);
  assert.deepEqual(errors, []);
  await p.close();
});

test('no page errors', () => {
  assert.deepEqual(browser.errors, []);
});
