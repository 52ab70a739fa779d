// The same bytes in every runtime: kc1 envelopes and delivery blobs cross between the package
// and the Rust core (core/examples/interop.rs, platform_interop.rs, run by the host), and
// between the package and an independent WebCrypto kc1 implementation, both ways (formerly
// bindings-node/test/interop.test.mjs, bindings-wasm/test/crosscheck.mjs and the interop
// tests of bindings-wasm/test/browser.test.mjs).
import { assert, utf8, toHex, fromUtf8 } from '../harness.mjs'
import * as wc from '../../../bindings-wasm/test/webcrypto-kc1.mjs'

const CASES = [
  ['text', 'tenant-42', 'openrouter_key', utf8('sk-or-v1-0123456789')],
  ['binary, empty context', 'tenant-é', '', new Uint8Array([0, 255, 1, 254, 10, 13])],
  ['non-ASCII text', 'tenant-ü', '', utf8('ключ 🔑')],
  ['empty plaintext, 1024-byte owner', 'o'.repeat(1024), 'x'.repeat(300), new Uint8Array(0)],
  ['64 bytes', 'tenant-3', 'c', Uint8Array.from({ length: 64 }, (_, i) => (i * 37) & 255)],
  ['1000 bytes', 'tenant-4', 'c', Uint8Array.from({ length: 1000 }, (_, i) => (i * 11) & 255)],
  ['256 KiB', 'big', 'blob', new Uint8Array(256 * 1024).fill(0x5a)],
]

export default async function register(test, ctx) {
  const { kc, host } = ctx
  const { Keyring } = kc
  const k = Keyring.generate()
  k.rotate() // seal under kid 2, with kid 1 decrypt-only
  let file
  const keyFile = async () => (file ??= await host.writeFile(`interop-${ctx.target}.json`, k.export()))

  for (const [name, owner, context, plain] of CASES) {
    test(`the package seals, Rust opens: ${name}`, async () => {
      const env = k.seal(owner, plain, context)
      const r = await host.rust('interop', ['open', await keyFile(), owner, context], env)
      assert.equal(r.status, 0, r.stderr)
      assert.equal(toHex(r.stdout), toHex(plain))
      const info = JSON.parse(fromUtf8((await host.rust('interop', ['inspect'], env)).stdout))
      assert.deepEqual(info, { version: 1, kid: 2, plaintext_len: plain.length })
    })
    test(`Rust seals, the package opens: ${name}`, async () => {
      const r = await host.rust('interop', ['seal', await keyFile(), owner, context], plain)
      assert.equal(r.status, 0, r.stderr)
      const env = fromUtf8(r.stdout)
      assert.equal(toHex(k.open(owner, env, context)), toHex(plain))
      assert.equal(kc.inspect(env).kid, 2)
      ctx.throwsKc(() => k.open('someone-else', env, context), 'DecryptFailed')
    })
  }

  test('both sides refuse the wrong owner and context with the same error kind', async () => {
    const env = k.seal('tenant-a', 'x', 'c')
    for (const [owner, context] of [['tenant-b', 'c'], ['tenant-a', 'other']]) {
      const r = await host.rust('interop', ['open', await keyFile(), owner, context], env)
      assert.equal(r.status, 1)
      assert.equal(r.stderr.trim(), 'DecryptFailed')
      ctx.throwsKc(() => k.open(owner, env, context), 'DecryptFailed')
    }
  })

  test('an envelope under the old key, sealed in Rust, rewraps in the package', async () => {
    const old = Keyring.parse(k.export())
    old.promote(1) // kid 1 the primary of a copy: Rust seals there, the real keyring rewraps
    const oldFile = await host.writeFile(`interop-old-${ctx.target}.json`, old.export())
    const r = await host.rust('interop', ['seal', oldFile, 'tenant-1', 'ctx'], utf8('v'))
    assert.equal(r.status, 0, r.stderr)
    const env = fromUtf8(r.stdout)
    assert.equal(kc.inspect(env).kid, 1)
    assert.equal(k.needsRewrap(env), true)
    const fresh = k.rewrap('tenant-1', env, 'ctx')
    assert.equal(kc.inspect(fresh).kid, 2)
    const back = await host.rust('interop', ['open', await keyFile(), 'tenant-1', 'ctx'], fresh)
    assert.equal(fromUtf8(back.stdout), 'v')
  })

  test('the package seals for delivery to a Rust-made public key; Rust opens it, for its owner only', async () => {
    const kp = await host.rust('platform_interop', ['delivery-keypair'])
    assert.equal(kp.status, 0, kp.stderr)
    const [privateKey, publicKey] = fromUtf8(kp.stdout).trim().split('\n')
    const vmFile = await host.writeFile(`vm-${ctx.target}.key`, privateKey)
    const secret = 'sk-ant-api03-package-to-vm-0123456789'
    const blob = kc.sealForDelivery(publicKey, 'acme', secret)
    assert.match(blob, /^kcd1\./)
    const r = await host.rust('platform_interop', ['delivery-open', vmFile, 'acme'], blob)
    assert.equal(r.status, 0, r.stderr)
    assert.equal(fromUtf8(r.stdout), secret)
    const other = await host.rust('platform_interop', ['delivery-open', vmFile, 'globex'], blob)
    assert.equal(other.status, 1)
    assert.equal(other.stderr.trim(), 'DecryptFailed')
  })

  test('Rust seals for delivery to a package-made public key; the package opens it', async () => {
    const dk = kc.generateDeliveryKeypair()
    const r = await host.rust('platform_interop', ['delivery-seal', dk.publicKey, 'acme'], 'bot-token:123')
    assert.equal(r.status, 0, r.stderr)
    const blob = fromUtf8(r.stdout).trim()
    assert.equal(fromUtf8(kc.openDelivery(dk.privateKey, 'acme', blob)), 'bot-token:123')
    ctx.throwsKc(() => kc.openDelivery(dk.privateKey, 'globex', blob), 'DecryptFailed')
  })

  test('kc1 envelopes cross between the package and an independent WebCrypto implementation', async () => {
    const root = crypto.getRandomValues(new Uint8Array(32))
    const kr = Keyring.fromSecret(root, 7)
    const rootKey = await wc.importRoot(root)
    const cases = [
      ['tenant-0001', 'openrouter_key', utf8('sk-or-v1-0123456789abcdef')],
      ['tenant-ü', '', utf8('ключ 🔑')],
      // 1000, not 1024: Node's WebCrypto (OpenSSL) caps the HKDF info at 1024 bytes.
      ['o'.repeat(1000), 'c'.repeat(500), new Uint8Array(0)],
      ['tenant-2', 'blob', crypto.getRandomValues(new Uint8Array(65536))],
    ]
    for (const [owner, context, pt] of cases) {
      const ctxBytes = utf8(context)
      const where = `${owner.slice(0, 12)}/${context.slice(0, 12)}/${pt.length}`
      const fromWebCrypto = await wc.seal(rootKey, 7, owner, pt, ctxBytes)
      assert.equal(kc.inspect(fromWebCrypto).kid, 7, `${where}: kid`)
      assert.equal(toHex(kr.open(owner, fromWebCrypto, context)), toHex(pt), `${where}: the package opened other bytes`)
      const fromPackage = kr.seal(owner, pt, ctxBytes)
      assert.equal(toHex(await wc.open(rootKey, owner, fromPackage, ctxBytes)), toHex(pt), `${where}: WebCrypto opened other bytes`)
      // Both refuse the wrong context.
      let refused = false
      try {
        await wc.open(rootKey, owner, fromPackage, utf8(`${context}x`))
      } catch {
        refused = true
      }
      assert.ok(refused, `${where}: WebCrypto opened with the wrong context`)
      ctx.throwsKc(() => kr.open(owner, fromWebCrypto, `${context}x`), 'DecryptFailed')
    }
  })
}
