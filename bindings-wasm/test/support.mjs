// Shared by the browser tests and the benchmark: a tiny static server on 127.0.0.1 and a
// headless Chromium (the system's, driven by playwright-core), plus the Rust interop tools.
import http from 'node:http';
import { readFile, mkdtemp, rm, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const PKG_DIR = fileURLToPath(new URL('..', import.meta.url));
export const REPO = path.dirname(PKG_DIR.replace(/\/$/, ''));

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.ts': 'text/plain; charset=utf-8',
};

/** The import map every page uses, as a bundler-less site would. */
export const IMPORT_MAP = `<script type="importmap">{"imports":{"keycustody-wasm":"/node_modules/keycustody-wasm/index.js","keycustody-wasm/scrub":"/node_modules/keycustody-wasm/scrub.js"}}</script>`;

/**
 * Serves, on 127.0.0.1 and a free port:
 *   /node_modules/keycustody-wasm/...  the package (index.js, pkg/*), .wasm as application/wasm
 *   /test/*.mjs, /bench/*.mjs          shared test and bench modules
 *   /vectors/index.json, /vectors/*    tests/vectors
 *   /harness.html                      an empty page with the import map
 * and anything in `routes` ({"METHOD /path": async (req, body) => [status, type, body]}) and
 * `extraRoots` ({"/prefix/": directory}).
 */
export async function startServer(routes = {}, extraRoots = {}) {
  const roots = {
    '/node_modules/keycustody-wasm/': PKG_DIR,
    '/test/': path.join(PKG_DIR, 'test'),
    '/bench/': path.join(PKG_DIR, 'bench'),
    '/vectors/': path.join(REPO, 'tests', 'vectors'),
    ...extraRoots,
  };
  const server = http.createServer(async (req, res) => {
    const send = (status, type, body) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    try {
      const url = new URL(req.url, 'http://127.0.0.1');
      const chunks = [];
      for await (const c of req) chunks.push(c);
      const body = Buffer.concat(chunks);
      const route = routes[`${req.method} ${url.pathname}`];
      if (route) return send(...(await route(req, body)));
      if (url.pathname === '/favicon.ico') return send(204, 'image/x-icon', '');
      if (url.pathname === '/harness.html') {
        return send(200, TYPES['.html'], `<!doctype html><meta charset="utf-8">${IMPORT_MAP}<title>harness</title>`);
      }
      if (url.pathname === '/vectors/index.json') {
        const files = (await readdir(roots['/vectors/'])).filter((f) => f.endsWith('.json')).sort();
        return send(200, TYPES['.json'], JSON.stringify(files));
      }
      for (const [prefix, dir] of Object.entries(roots)) {
        if (!url.pathname.startsWith(prefix)) continue;
        const file = path.resolve(dir, '.' + decodeURIComponent(url.pathname.slice(prefix.length - 1)));
        if (!file.startsWith(dir) || file.includes(`${path.sep}node_modules${path.sep}`)) break;
        const data = await readFile(file);
        return send(200, TYPES[path.extname(file)] ?? 'application/octet-stream', data);
      }
      send(404, 'text/plain', 'not found');
    } catch (e) {
      send(e.code === 'ENOENT' ? 404 : 500, 'text/plain', String(e.code ?? 'error'));
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return { origin: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(r)) };
}

/** The system Chromium, headless, in a fresh profile. Fails loudly when it is missing. */
export async function launchChromium() {
  const { chromium } = await import('playwright-core');
  let executablePath;
  try {
    executablePath = execFileSync('which', ['chromium'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('chromium is not installed (scripts/ensure-apt.sh chromium)');
  }
  const profile = await mkdtemp(path.join(tmpdir(), 'kc-wasm-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const errors = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => m.type() === 'error' && errors.push(`console: ${m.text()}`));
  return {
    context,
    page,
    errors,
    close: async () => {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

// `--locked` as everywhere in `make test`; KC_CARGO_FLAGS overrides it for local runs in a
// work tree whose Cargo.lock is being changed by someone else.
const CARGO_FLAGS = (process.env.KC_CARGO_FLAGS ?? '--locked').split(' ').filter(Boolean);
const examples = {};

/**
 * Builds the core's interop examples once (`interop`: kc1 seal/open; `platform_interop`:
 * delivery keys, seal and open) and remembers their executables.
 */
export function buildRustExamples() {
  const r = spawnSync(
    'cargo',
    ['build', '-q', ...CARGO_FLAGS, '--message-format=json', '-p', 'keycustody',
      '--example', 'interop', '--example', 'platform_interop'],
    { cwd: REPO, encoding: 'utf8', maxBuffer: 1 << 26, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  if (r.status !== 0) throw new Error('cargo build of the interop examples failed');
  for (const line of r.stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    const m = JSON.parse(line);
    if (m.reason === 'compiler-artifact' && m.executable) examples[m.target.name] = m.executable;
  }
  for (const name of ['interop', 'platform_interop']) {
    if (!examples[name]) throw new Error(`no executable for example ${name}`);
  }
}

/**
 * Runs a core example (what `cargo run -q -p keycustody --example NAME -- ARGS` runs),
 * stdin = input. Returns {status, stdout: Buffer, stderr: string}.
 */
export function rustExample(example, args, input = '') {
  if (!examples[example]) buildRustExamples();
  const r = spawnSync(examples[example], args, { cwd: REPO, input, maxBuffer: 1 << 28 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}
