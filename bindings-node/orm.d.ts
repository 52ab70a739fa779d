// keycustody/orm: shared by keycustody-drizzle and keycustody-prisma (not a public API of its
// own). The errors are the ones those packages export.
/** Shared by the errors below: the core error kind and stable code (as the binding's errors). */
interface KcOrmError extends Error {
  kind: string
  code: string
  /** "<table>.<column>" */
  field: string
}
/** The row's owner is empty, NULL or absent: nothing is sealed (code `KC_INVALID_OWNER`). */
export declare class OwnerMissingError extends Error implements KcOrmError {
  kind: 'InvalidOwner'
  code: 'KC_INVALID_OWNER'
  field: string
  ownerField: string
  /** The row's id where the ORM knows it (keycustody-drizzle). */
  rowId?: unknown
}
/** The column holds a value that is not kc1 (legacy plaintext), named by row id (`KC_MALFORMED`). */
export declare class PlaintextValueError extends Error implements KcOrmError {
  kind: 'Malformed'
  code: 'KC_MALFORMED'
  field: string
  rowId: unknown
  malformedKind: 'EnvelopePrefix'
}
/** The envelope does not open for the row's owner and this column (`KC_DECRYPT_FAILED`). */
export declare class RowDecryptError extends Error implements KcOrmError {
  kind: 'DecryptFailed'
  code: 'KC_DECRYPT_FAILED'
  field: string
  rowId: unknown
}
/** A value reached the driver unsealed, or an encrypted field in a filter (`KC_INVALID_ARGUMENT`). */
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
