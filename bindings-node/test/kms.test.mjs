// The AWS KMS example (examples/kms-wrap.mjs, @aws-sdk/client-kms) against a local moto KMS
// server (moto_server on a free 127.0.0.1 port, credentials test/test), started and stopped
// here. make test-node installs moto into .venv (KEYCUSTODY_MOTO_SERVER names the binary);
// a missing server is a failure, not a skip.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { KMSClient, CreateKeyCommand, DecryptCommand } from '@aws-sdk/client-kms'
import { kc, repoRoot } from './helpers.mjs'
import { wrapWithAwsKms, openWithAwsKms } from '../examples/kms-wrap.mjs'

const MOTO = process.env.KEYCUSTODY_MOTO_SERVER || path.join(repoRoot, '.venv', 'bin', 'moto_server')
let server
let endpoint
let kms
let keyId

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer()
    s.on('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })
}

async function waitUp(port) {
  for (let i = 0; i < 300; i++) {
    const ok = await new Promise((resolve) => {
      const c = net.connect(port, '127.0.0.1', () => {
        c.end()
        resolve(true)
      })
      c.on('error', () => resolve(false))
    })
    if (ok) return
    if (server.exitCode !== null) throw new Error(`moto_server exited with ${server.exitCode}`)
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error('moto_server did not start')
}

const client = (url) =>
  new KMSClient({ region: 'us-east-1', endpoint: url, credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 })

before(async () => {
  assert.ok(fs.existsSync(MOTO), `moto_server not found at ${MOTO} (make test-node installs it)`)
  const port = await freePort()
  server = spawn(MOTO, ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' })
  await waitUp(port)
  endpoint = `http://127.0.0.1:${port}`
  kms = client(endpoint)
  keyId = (await kms.send(new CreateKeyCommand({ Description: 'keycustody test' }))).KeyMetadata.Arn
})

after(() => {
  kms?.destroy()
  if (server && server.exitCode === null) server.kill('SIGTERM')
})

test('wrap under AWS KMS and reopen with one Decrypt (platform and tenant keyrings)', async () => {
  for (const owner of ['', 'tenant-42']) {
    const keyring = kc.Keyring.generate()
    keyring.rotate()
    const text = await wrapWithAwsKms(kms, keyring, keyId, owner)
    const w = kc.WrappedKeyring.parse(text)
    assert.equal(w.kekType, 'aws-kms')
    assert.equal(w.kekKey, keyId)
    assert.equal(w.owner, owner)
    const back = await openWithAwsKms(kms, text, owner)
    assert.equal(back.export(), keyring.export())
  }
})

test('KMS enforces the encryption context: a keyring moved to another owner does not unwrap', async () => {
  const text = await wrapWithAwsKms(kms, kc.Keyring.generate(), keyId, 'tenant-a')
  // The library refuses the wrong owner before any KMS call ...
  await assert.rejects(openWithAwsKms(kms, text, 'tenant-b'), (e) => e.code === 'KC_DECRYPT_FAILED')
  // ... and KMS refuses a Decrypt with tenant B's context on tenant A's blob.
  const moved = JSON.parse(text)
  moved.owner = 'tenant-b'
  const w = kc.WrappedKeyring.parse(JSON.stringify(moved))
  await assert.rejects(
    kms.send(new DecryptCommand({ KeyId: w.kekKey, CiphertextBlob: w.wrappedDek, EncryptionContext: w.encryptionContext })),
    (e) => e.name === 'InvalidCiphertextException',
  )
})

test('an unreachable KMS fails the open, and nothing opens without the DEK', async () => {
  const text = await wrapWithAwsKms(kms, kc.Keyring.generate(), keyId, '')
  const port = await freePort()
  const down = client(`http://127.0.0.1:${port}`)
  try {
    await assert.rejects(openWithAwsKms(down, text, ''))
  } finally {
    down.destroy()
  }
  assert.throws(() => kc.WrappedKeyring.parse(text).openWithDek(Buffer.alloc(32)), (e) => e.code === 'KC_DECRYPT_FAILED')
})
