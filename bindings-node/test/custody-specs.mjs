// Garbage specs of the custody exports (issue 14 item 6), spread into specs.mjs's table:
// the Keyring methods and free functions the shared garbage suite enumerates. The members
// of WrappedKeyring, PendingWrap and TenantKeyringCache are covered in custody.test.mjs.
import { kc } from './helpers.mjs'

const { Keyring } = kc
const MARKER = 'sk-MARKER-do-not-echo-7f3a'
const platform = Keyring.generate()
const tenantKr = Keyring.generate()
const sealed = platform.sealKeyring('acme', tenantKr)
const notAKeyring = platform.seal('acme', 'not a keyring', 'keycustody/v1/keyring')
const longOwner = 'o'.repeat(1025)
// A Keyring argument: `object` garbage (numbers, strings, arrays, Buffers, ...) is a TypeError.
export const custodySpecs = {
  '#sealKeyring': {
    call: (t, k) => platform.sealKeyring(t, k),
    args: ['acme', tenantKr],
    types: ['string', 'object'],
    bad: [
      ['empty tenant', ['', tenantKr], 'InvalidOwner'],
      ['1025-byte tenant', [longOwner, tenantKr], 'InvalidOwner'],
    ],
  },
  '#openKeyring': {
    call: (t, e) => platform.openKeyring(t, e),
    args: ['acme', sealed],
    types: ['string', 'string'],
    bad: [
      ['wrong tenant', ['evil', sealed], 'DecryptFailed'],
      ['data envelope', ['acme', platform.seal('acme', 'x')], 'DecryptFailed'],
      ['not a keyring', ['acme', notAKeyring], 'Malformed'],
      ['garbage', ['acme', MARKER], 'Malformed'],
      ['empty tenant', ['', sealed], 'InvalidOwner'],
    ],
  },
  wrapWithPassphrase: {
    call: (...a) => kc.wrapWithPassphrase(...a),
    args: [tenantKr, `pass-${MARKER}`, 'acme', 8, 1, 1],
    types: ['object', 'bytes', 'string', 'int?', 'int?', 'int?'],
    bad: [
      ['empty passphrase', [tenantKr, '', 'acme', 8, 1, 1], 'InvalidArgument'],
      ['m below 8p', [tenantKr, 'p', 'acme', 7, 1, 1], 'InvalidArgument'],
      ['t 0', [tenantKr, 'p', 'acme', 8, 0, 1], 'InvalidArgument'],
      ['p 0', [tenantKr, 'p', 'acme', 8, 1, 0], 'InvalidArgument'],
      ['t 17', [tenantKr, 'p', 'acme', 8, 17, 1], 'InvalidArgument'],
      ['m over 1 GiB', [tenantKr, 'p', 'acme', 1024 * 1024 + 1, 1, 1], 'InvalidArgument'],
      ['m over u32', [tenantKr, 'p', 'acme', 2 ** 32, 1, 1], 'InvalidArgument'],
      ['1025-byte owner', [tenantKr, 'p', longOwner, 8, 1, 1], 'InvalidOwner'],
      ['passphrase over 64 KiB', [tenantKr, Buffer.alloc(64 * 1024 + 1, 1), 'acme', 8, 1, 1], 'TooLarge'],
    ],
  },
  isWrappedKeyring: { call: (t) => kc.isWrappedKeyring(t), args: ['{"kek":1}'], types: ['string'] },
}
export const custodyClasses = ['WrappedKeyring', 'PendingWrap', 'TenantKeyringCache']
