// The shared JS suite against keycustody-wasm in a real headless Chromium (the system's
// `chromium`, driven by playwright-core from bindings-wasm's devDependencies). The page loads
// the package through an import map, as a bundler-less site would, and runs every suite module;
// each result becomes one node:test test here. If Chromium cannot start, this FAILS.
import { test, after } from 'node:test'
import { startServer, launchChromium } from '../../bindings-wasm/test/support.mjs'
import { REPO, rustExample, nodeHost } from './node-host.mjs'

const T = '[wasm-chromium]'
const host = nodeHost()
let browser
let server
let results
let startError
try {
  // The repository under /repo/, so that the suite's relative imports resolve as in Node.
  server = await startServer({}, { '/repo/': REPO })
  browser = await launchChromium()
  const { page } = browser
  // The page reaches the Rust core and the file system only through these two functions.
  await page.exposeFunction('kcHostRust', (example, args, inputB64) => {
    const r = rustExample(example, args, Buffer.from(inputB64, 'base64'))
    return { status: r.status, stdout: Buffer.from(r.stdout).toString('base64'), stderr: r.stderr }
  })
  await page.exposeFunction('kcHostWriteFile', (name, text) => host.writeFile(name, text))
  await page.goto(`${server.origin}/harness.html`)
  results = await page.evaluate(async (only) => {
    const main = await import('keycustody-wasm')
    await main.default() // fetches pkg/keycustody_wasm_bg.wasm (application/wasm, streaming)
    const scrub = await import('keycustody-wasm/scrub')
    await scrub.default() // fetches pkg/scrub/keycustody_wasm_scrub_bg.wasm
    const H = await import('/repo/tests/js/harness.mjs')
    const S = await import('/repo/tests/js/suite.mjs')
    const manifest = await (await fetch('/repo/tests/api.json')).json()
    // The suite's `kc`: the main entry, with scrub from keycustody-wasm/scrub (as in Node).
    const kc = H.withCompanions(main, { scrub }, manifest, 'wasm')
    const pageHost = {
      name: 'chromium',
      vectors: async () => {
        const names = await (await fetch('/vectors/index.json')).json()
        const files = {}
        for (const n of names) files[n] = await (await fetch(`/vectors/${n}`)).json()
        return files
      },
      rust: async (example, args, input = '') => {
        const bytes = typeof input === 'string' ? new TextEncoder().encode(input) : input
        const r = await window.kcHostRust(example, args, H.b64(bytes))
        return { status: r.status, stdout: H.fromB64(r.stdout), stderr: r.stderr }
      },
      writeFile: (name, text) => window.kcHostWriteFile(name, text),
      repoText: async (rel) => {
        const r = await fetch(`/repo/${rel}`)
        if (!r.ok) throw new Error(`GET /repo/${rel}: ${r.status}`)
        return r.text()
      },
      inspect: (v) => `${String(v)} ${JSON.stringify(v)} ${Object.getOwnPropertyNames(v ?? {}).map((k) => `${k}=${String(v[k])}`).join(' ')}`,
      node: null,
    }
    const ctx = H.makeContext({ kc, target: 'wasm-chromium', runtime: 'wasm', manifest, host: pageHost })
    let tests = await H.collect(await S.loadModules(), ctx)
    if (only) tests = tests.filter((t) => new RegExp(only).test(t.name))
    const out = await H.runAll(tests)
    return { out, ua: navigator.userAgent }
  }, process.env.KC_JS_ONLY ?? '')
} catch (e) {
  startError = e
}

after(async () => {
  await browser?.close()
  await server?.close()
})

if (startError) {
  test(`${T} headless Chromium starts and runs the suite`, () => {
    throw new Error(`FATAL: the Chromium run of the shared JS suite did not happen: ${startError.stack ?? startError}`)
  })
} else {
  test(`${T} the page is Chromium`, (t) => {
    if (!/Chrome\/\d+/.test(results.ua)) throw new Error(`not Chromium: ${results.ua}`)
  })
  if (!process.env.KC_JS_ONLY && results.out.length < 100) test(`${T} the page ran the suite`, () => { throw new Error(`only ${results.out.length} tests ran`) })
  for (const r of results.out) {
    test(`${T} ${r.name}`, { skip: r.skip }, () => {
      if (!r.ok) throw new Error(r.error)
    })
  }
  test(`${T} no page errors`, () => {
    if (browser.errors.length) throw new Error(browser.errors.join('\n'))
  })
}
