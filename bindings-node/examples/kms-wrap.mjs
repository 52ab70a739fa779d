// A keyring wrapped under an AWS KMS key with the application's own @aws-sdk/client-kms
// (DESIGN §7, two-step wrap): keycustody hands out the DEK and the encryption context, the
// application calls KMS, keycustody takes the result back. keycustody itself never calls KMS.
//
//   node examples/kms-wrap.mjs <key id or ARN>   (AWS credentials, region and
//   AWS_ENDPOINT_URL_KMS from the standard AWS configuration chain)
import { createRequire } from 'node:module'
import { KMSClient, EncryptCommand, DecryptCommand } from '@aws-sdk/client-kms'

const require = createRequire(import.meta.url)
const { Keyring, PendingWrap, WrappedKeyring } = require('../index.js')

/** Wraps `keyring` under the KMS key `keyId` for `owner` ("" = the platform keyring); returns the text to store. */
export async function wrapWithAwsKms(kms, keyring, keyId, owner) {
  const pending = new PendingWrap(keyring, 'aws-kms', keyId, owner)
  const out = await kms.send(
    new EncryptCommand({ KeyId: keyId, Plaintext: pending.dek, EncryptionContext: pending.encryptionContext }),
  )
  return pending.finish(out.CiphertextBlob).toText()
}

/** Opens a wrapped keyring stored for `owner`: one KMS Decrypt, bound to the same context. */
export async function openWithAwsKms(kms, text, owner) {
  const wrapped = WrappedKeyring.parse(text)
  // A row holding another owner's keyring is refused before KMS is asked.
  wrapped.expectOwner(owner)
  const out = await kms.send(
    new DecryptCommand({
      KeyId: wrapped.kekKey,
      CiphertextBlob: wrapped.wrappedDek,
      EncryptionContext: wrapped.encryptionContext,
    }),
  )
  const dek = Buffer.from(out.Plaintext)
  try {
    return wrapped.openWithDek(dek)
  } finally {
    dek.fill(0)
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const keyId = process.argv[2]
  if (!keyId) {
    console.error('usage: node examples/kms-wrap.mjs <kms key id or ARN>')
    process.exit(2)
  }
  const kms = new KMSClient({})
  const keyring = Keyring.generate()
  const text = await wrapWithAwsKms(kms, keyring, keyId, '')
  const back = await openWithAwsKms(kms, text, '')
  console.log(`wrapped and reopened a keyring under ${keyId}: primary kid ${back.primaryKid}`)
}
