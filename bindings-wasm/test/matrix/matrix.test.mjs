// keycustody-wasm loaded the one documented way in each bundler and runtime (README "Loading"):
// the package as `npm pack` ships it, installed in a fresh project, then
//   browser bundles built by Vite, webpack, esbuild and `bun build --target=browser`, each
//     loaded in headless Chromium from 127.0.0.1, where it seals and opens;
//   Node, Bun and Deno (`deno run` without --allow-read) running the same file;
//   a Node bundle (esbuild and webpack, target node) run from a directory without node_modules,
//     as Next.js prerendering runs a bundled server module;
//   a Cloudflare Worker on workerd (miniflare), bundled as wrangler does (the .wasm kept as a
//     module);
//   tsc --strict on the `keycustody-wasm/wasm` imports, with no declaration of the user's own.
// The tools are pinned in this directory's package.json (make test-wasm-matrix installs them).
// On the package before these entries (the JS files of commit 258bf5a with a fresh pkg/, run as
// KC_MATRIX_PKG=<that directory>), 7 of the 13 fail: esbuild, bun build and delivery (no
// /inline or /delivery entry), Deno (NotCapable: requires --allow-read), the esbuild Node bundle
// (ENOENT on the .wasm path computed from import.meta.url), workerd (no /wasm entry), tsc.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, cpSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import { launchChromium, startServer, PKG_DIR } from '../support.mjs';

const HERE = fileURLToPath(new URL('.', import.meta.url));
// The package directory to pack (KC_MATRIX_PKG: another tree's bindings-wasm, e.g. to run these
// tests on an older package).
const PKG = process.env.KC_MATRIX_PKG ?? PKG_DIR;
const BIN = path.join(HERE, 'node_modules', '.bin');
const requireTool = createRequire(path.join(HERE, 'package.json'));
const tool = (name) => import(pathToFileURL(requireTool.resolve(name)).href);

// The user's code: seal and open with a keyring, a delivery round trip, and scrub from the
// companion module keycustody-wasm/scrub (its own wasm, loaded the same way as the package's).
const CHECK = `
const kr = Keyring.generate();
const dk = generateDeliveryKeypair();
const blob = sealForDelivery(dk.publicKey, 'acme', 'sk-matrix');
const ok = kr.openText('t', kr.seal('t', 'matrix')) === 'matrix'
  && new TextDecoder().decode(openDelivery(dk.privateKey, 'acme', blob)) === 'sk-matrix'
  && scrub('Authorization: Bearer abc.def') === 'Authorization: [REDACTED:authorization]';
`;
const IMPORTS = 'Keyring, generateDeliveryKeypair, sealForDelivery, openDelivery';
// The scrub module's entry beside each of the package's: '/inline' beside '/inline'.
const scrubEntry = (entry) => (entry.endsWith('/inline') ? 'keycustody-wasm/scrub/inline' : 'keycustody-wasm/scrub');
// A browser page reports through globalThis.__kc (read by the test).
const browserMain = (entry) => `import init, { ${IMPORTS} } from '${entry}';
import initScrub, { scrub } from '${scrubEntry(entry)}';
try {
  await init();
  await initScrub();
  ${CHECK}
  globalThis.__kc = ok ? 'sealed and opened' : 'wrong result';
} catch (e) {
  globalThis.__kc = 'error: ' + (e && e.stack || e);
}
`;
// The delivery module in a page: seal for a VM's key, pinned to its fingerprint.
const deliveryMain = (publicKey) => `import { sealForDelivery, deliveryKeyFingerprint } from 'keycustody-wasm/delivery';
try {
  const pk = ${JSON.stringify(publicKey)};
  globalThis.__kc = sealForDelivery(pk, 'acme', 'sk-delivery', deliveryKeyFingerprint(pk));
} catch (e) {
  globalThis.__kc = 'error: ' + (e && e.stack || e);
}
`;
const scriptMain = `import init, { ${IMPORTS} } from 'keycustody-wasm';
import initScrub, { scrub } from 'keycustody-wasm/scrub';
await init();
await initScrub();
${CHECK}
console.log(ok ? 'sealed and opened' : 'wrong result');
`;

let work;
let app;
let server;
let browser;

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 120_000, ...opts });
  return { status: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ?? ''}`, stdout: r.stdout ?? '' };
}

function ok(cmd, args, opts) {
  const r = run(cmd, args, opts);
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}\n${r.out}`);
  return r.stdout;
}

before(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'kc-wasm-matrix-'));
  app = path.join(work, 'app');
  const installed = path.join(app, 'node_modules', 'keycustody-wasm');
  mkdirSync(installed, { recursive: true });
  const [info] = JSON.parse(ok('npm', ['pack', '--json', '--pack-destination', work], { cwd: PKG }));
  ok('tar', ['-xzf', path.join(work, info.filename), '-C', installed, '--strip-components=1']);
  writeFileSync(
    path.join(app, 'package.json'),
    JSON.stringify({ name: 'app', private: true, type: 'module', dependencies: { 'keycustody-wasm': '*' } }),
  );
  mkdirSync(path.join(app, 'src'));
  writeFileSync(path.join(app, 'src', 'main.js'), browserMain('keycustody-wasm'));
  writeFileSync(path.join(app, 'src', 'main-inline.js'), browserMain('keycustody-wasm/inline'));
  writeFileSync(path.join(app, 'script.mjs'), scriptMain);
  server = await startServer({}, { '/dist/': path.join(work, 'dist') + path.sep });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Loads dist/<name>/index.html in Chromium and returns what the page reported. */
async function inChromium(name) {
  await browser.page.goto(`${server.origin}/dist/${name}/index.html`);
  try {
    await browser.page.waitForFunction(() => globalThis.__kc !== undefined, null, { timeout: 30_000 });
  } catch (e) {
    throw new Error(`${name}: the page did not report (${browser.errors.splice(0).join('; ')})`, { cause: e });
  }
  return browser.page.evaluate(() => globalThis.__kc);
}

const page = (script, type = 'module') =>
  `<!doctype html><meta charset="utf-8"><title>kc</title><script${type ? ` type="${type}"` : ''} src="./${script}"></script>`;

test('Vite: import init from "keycustody-wasm"; await init() (no config)', async () => {
  const { build } = await tool('vite');
  writeFileSync(path.join(app, 'index.html'), page('src/main.js'));
  await build({
    root: app,
    // Only because the test serves each bundle under /dist/<name>/ rather than at /.
    base: './',
    configFile: false,
    logLevel: 'silent',
    build: { outDir: path.join(work, 'dist', 'vite'), emptyOutDir: true },
  });
  assert.equal(await inChromium('vite'), 'sealed and opened');
});

test('Vite dev server: the same page, served by vite (no config)', async () => {
  const { createServer } = await tool('vite');
  writeFileSync(path.join(app, 'index.html'), page('src/main.js'));
  const dev = await createServer({
    root: app,
    configFile: false,
    logLevel: 'silent',
    server: { host: '127.0.0.1', port: 0, strictPort: false, hmr: false },
  });
  await dev.listen();
  try {
    const { port } = dev.httpServer.address();
    await browser.page.goto(`http://127.0.0.1:${port}/index.html`);
    await browser.page.waitForFunction(() => globalThis.__kc !== undefined, null, { timeout: 60_000 });
    assert.equal(await browser.page.evaluate(() => globalThis.__kc), 'sealed and opened', browser.errors.join('; '));
  } finally {
    await dev.close();
  }
});

test('webpack 5: import init from "keycustody-wasm"; await init() (no config)', async () => {
  const { default: webpack } = await tool('webpack');
  const out = path.join(work, 'dist', 'webpack');
  const stats = await new Promise((resolve, reject) =>
    webpack(
      {
        mode: 'production',
        context: app,
        entry: './src/main.js',
        output: { path: out, filename: 'main.js' },
        performance: false,
      },
      (err, s) => (err ? reject(err) : resolve(s)),
    ),
  );
  assert.ok(!stats.hasErrors(), stats.toString('errors-only'));
  writeFileSync(path.join(out, 'index.html'), page('main.js', ''));
  assert.equal(await inChromium('webpack'), 'sealed and opened');
});

test('esbuild: import init from "keycustody-wasm/inline"; await init() (no loader, no copy)', async () => {
  const esbuild = await tool('esbuild');
  const out = path.join(work, 'dist', 'esbuild');
  await esbuild.build({
    absWorkingDir: app,
    entryPoints: ['src/main-inline.js'],
    bundle: true,
    format: 'esm',
    outfile: path.join(out, 'main.js'),
    logLevel: 'silent',
  });
  writeFileSync(path.join(out, 'index.html'), page('main.js'));
  assert.equal(await inChromium('esbuild'), 'sealed and opened');
});

test('bun build --target=browser: import init from "keycustody-wasm/inline"; await init()', async () => {
  const out = path.join(work, 'dist', 'bun');
  ok(path.join(BIN, 'bun'), ['build', '--target=browser', '--format=esm', '--outdir', out, 'src/main-inline.js'], {
    cwd: app,
  });
  const [js] = readdirSync(out).filter((f) => f.endsWith('.js'));
  writeFileSync(path.join(out, 'index.html'), page(js));
  assert.equal(await inChromium('bun'), 'sealed and opened');
});

test('keycustody-wasm/delivery in a browser bundle (esbuild, no config): the VM opens what the page sealed', async () => {
  const esbuild = await tool('esbuild');
  const { generateDeliveryKeypair, openDelivery } = await import(pathToFileURL(path.join(PKG, 'node.js')).href);
  const vm = generateDeliveryKeypair();
  writeFileSync(path.join(app, 'src', 'main-delivery.js'), deliveryMain(vm.publicKey));
  const out = path.join(work, 'dist', 'delivery');
  await esbuild.build({
    absWorkingDir: app,
    entryPoints: ['src/main-delivery.js'],
    bundle: true,
    minify: true,
    format: 'esm',
    outfile: path.join(out, 'main.js'),
    logLevel: 'silent',
  });
  writeFileSync(path.join(out, 'index.html'), page('main.js'));
  const blob = await inChromium('delivery');
  assert.match(blob, /^kcd1\./, blob);
  assert.equal(new TextDecoder().decode(openDelivery(vm.privateKey, 'acme', blob)), 'sk-delivery');
  // The whole page's script: the delivery module, nothing of the full package.
  const bundle = readFileSync(path.join(out, 'main.js'));
  const full = readFileSync(path.join(PKG, 'pkg', 'keycustody_wasm_inline.js'));
  assert.ok(bundle.length * 3 < full.length, `${bundle.length} bytes bundled`);
});

test('Node: import init from "keycustody-wasm"; await init()', () => {
  assert.equal(ok(process.execPath, ['script.mjs'], { cwd: app }).trim(), 'sealed and opened');
});

test('Bun: the same file, bun script.mjs', () => {
  assert.equal(ok(path.join(BIN, 'bun'), ['script.mjs'], { cwd: app }).trim(), 'sealed and opened');
});

test('Deno: the same file, deno run with no permission flag', () => {
  const env = { ...process.env, DENO_DIR: path.join(work, 'deno-dir'), DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' };
  const r = run(path.join(BIN, 'deno'), ['run', '--no-prompt', 'script.mjs'], { cwd: app, env });
  assert.equal(r.status, 0, r.out);
  assert.equal(r.stdout.trim(), 'sealed and opened');
});

test('Node entry bundled (esbuild --platform=node), run where there is no node_modules', async () => {
  const esbuild = await tool('esbuild');
  const out = path.join(work, 'dist', 'node-esbuild');
  await esbuild.build({
    absWorkingDir: app,
    entryPoints: ['script.mjs'],
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile: path.join(out, 'server.mjs'),
    logLevel: 'silent',
  });
  assert.equal(ok(process.execPath, ['server.mjs'], { cwd: out }).trim(), 'sealed and opened');
});

test('Node entry bundled (webpack, target node, as Next.js prerendering does), run where there is no node_modules', async () => {
  const { default: webpack } = await tool('webpack');
  const out = path.join(work, 'dist', 'node-webpack');
  const stats = await new Promise((resolve, reject) =>
    webpack(
      {
        mode: 'production',
        target: 'node',
        context: app,
        entry: './script.mjs',
        output: { path: out, filename: 'server.cjs' },
        performance: false,
      },
      (err, s) => (err ? reject(err) : resolve(s)),
    ),
  );
  assert.ok(!stats.hasErrors(), stats.toString('errors-only'));
  const moved = path.join(work, 'elsewhere');
  cpSync(out, moved, { recursive: true });
  assert.equal(ok(process.execPath, ['server.cjs'], { cwd: moved }).trim(), 'sealed and opened');
});

test('Cloudflare Workers (workerd via miniflare): import wasm from "keycustody-wasm/wasm"; await init(wasm)', async () => {
  const esbuild = await tool('esbuild');
  const { Miniflare } = await tool('miniflare');
  const out = path.join(work, 'dist', 'worker');
  writeFileSync(
    path.join(app, 'worker.js'),
    `import init, { ${IMPORTS} } from 'keycustody-wasm';
import wasm from 'keycustody-wasm/wasm';
import initScrub, { scrub } from 'keycustody-wasm/scrub';
import scrubWasm from 'keycustody-wasm/scrub/wasm';
export default {
  async fetch() {
    await init(wasm);
    await initScrub(scrubWasm);
    ${CHECK}
    return new Response(ok ? 'sealed and opened' : 'wrong result');
  },
};
`,
  );
  // As wrangler bundles a Worker: workerd's conditions, each .wasm import kept as a module.
  await esbuild.build({
    absWorkingDir: app,
    entryPoints: ['worker.js'],
    bundle: true,
    format: 'esm',
    conditions: ['workerd', 'worker', 'browser'],
    loader: { '.wasm': 'copy' },
    outdir: out,
    logLevel: 'silent',
  });
  const mf = new Miniflare({
    modules: true,
    modulesRoot: out,
    scriptPath: path.join(out, 'worker.js'),
    modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'] }],
    compatibilityDate: '2026-07-01',
    host: '127.0.0.1',
    port: 0,
  });
  try {
    const res = await mf.dispatchFetch('http://localhost/');
    assert.equal(await res.text(), 'sealed and opened');
  } finally {
    await mf.dispose();
  }
});

test('TypeScript strict: the wasm imports and init(source) are typed by the package', () => {
  writeFileSync(
    path.join(app, 'types.ts'),
    `import init, { Keyring } from 'keycustody-wasm';
import wasm from 'keycustody-wasm/wasm';
import wasmForNextEdge from 'keycustody-wasm/wasm?module';
import * as inline from 'keycustody-wasm/inline';
import initScrub, { scrub } from 'keycustody-wasm/scrub';
import * as scrubInline from 'keycustody-wasm/scrub/inline';
import scrubWasm from 'keycustody-wasm/scrub/wasm';
import scrubWasmForNextEdge from 'keycustody-wasm/scrub/wasm?module';
const m: WebAssembly.Module = wasm;
const n: WebAssembly.Module = wasmForNextEdge;
const sm: WebAssembly.Module = scrubWasm;
export async function scrubbed(text: string): Promise<string> {
  await initScrub(sm);
  await initScrub(scrubWasmForNextEdge);
  await scrubInline.default();
  return scrub(text) + scrubInline.scrub(text);
}
export async function load(bytes: Uint8Array, url: URL): Promise<string> {
  await init(m);
  await init(n);
  await init(bytes);
  await init(url);
  await init(fetch(url));
  await init({ module_or_path: m });
  await inline.default();
  return Keyring.generate().seal('t', 'typed');
}
// @ts-expect-error: the module is not a string
const wrong: string = wasm;
`,
  );
  writeFileSync(
    path.join(app, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true, noEmit: true, target: 'es2022', module: 'esnext', moduleResolution: 'bundler',
        lib: ['esnext', 'dom'], skipLibCheck: false,
      },
      files: ['types.ts'],
    }),
  );
  ok(process.execPath, [path.join(PKG_DIR, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: app });
});
