// keycustody-wasm in a real headless Chromium, what is specific to the package: the page is
// Chromium with the JS fast path for envelope text, and the README's browser snippet runs as
// written (its delivery blob opens in Rust). The shared API suite (vectors, garbage, interop
// with Rust and WebCrypto, ...) runs in Chromium from tests/js/chromium.test.mjs.
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

test('the page has Uint8Array.prototype.toBase64: seal builds the envelope text in JS', async () => {
  // (src/lib.rs, kc_envelope_text; the shared interop tests in Chromium open such envelopes in Rust.)
  assert.equal(await page.evaluate(() => typeof Uint8Array.prototype.toBase64), 'function');
  const ok = await page.evaluate(() => {
    const kr = window.kc.Keyring.generate();
    const env = kr.seal('t', new Uint8Array(100000).fill(7), 'c');
    return env.startsWith('kc1.') && kr.open('t', env, 'c').every((b) => b === 7);
  });
  assert.equal(ok, true);
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
