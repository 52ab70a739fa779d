// keycustody/orm: shared by keycustody-drizzle and keycustody-prisma (not a public API of its
// own). The errors are the ones those packages export.
interface KcOrmError extends Error {
  kind: string
  code: string
  field: string
}
export declare class OwnerMissingError extends Error implements KcOrmError {
  kind: 'InvalidOwner'
  code: 'KC_INVALID_OWNER'
  field: string
  ownerField: string
}
export declare class PlaintextValueError extends Error implements KcOrmError {
  kind: 'Malformed'
  code: 'KC_MALFORMED'
  field: string
  rowId: unknown
  malformedKind: 'EnvelopePrefix'
}
export declare class RowDecryptError extends Error implements KcOrmError {
  kind: 'DecryptFailed'
  code: 'KC_DECRYPT_FAILED'
  field: string
  rowId: unknown
}
export declare class UnsealedWriteError extends Error implements KcOrmError {
  kind: 'InvalidArgument'
  code: 'KC_INVALID_ARGUMENT'
  field: string
}
/** The part of a Keyring these helpers use. */
export interface OrmKeyring {
  seal(owner: string, plaintext: string, context: string): string
  openText(owner: string, envelope: string, context: string): string
  needsRewrap(envelope: string): boolean
}
export declare function ownerMissing(field: string, ownerField: string, what: string, extra?: object): OwnerMissingError
export declare function rowDecrypt(field: string, rowId: unknown): RowDecryptError
export declare function unsealedWrite(field: string, message: string): UnsealedWriteError
export declare function keyringOf(opts: { keyring: OrmKeyring | (() => OrmKeyring) }, who: string): () => OrmKeyring
export declare function sealForOwner(kr: OrmKeyring, value: unknown, opts: { owner: unknown; field: string; noOwner: () => Error }): string
export declare function openForOwner(
  kr: OrmKeyring,
  text: string,
  opts: { owner: unknown; field: string; rowId: unknown; migrate: boolean; advice: string; noOwner: () => Error },
): { value: string; legacy?: true }
