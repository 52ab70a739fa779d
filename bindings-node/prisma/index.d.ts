// keycustody-prisma: a Prisma Client extension sealing fields for the row's owner.

/** The part of keycustody's `Keyring` the extension calls. */
export interface KeyringLike {
  seal(owner: string, plaintext: string, context?: string): string
  openText(owner: string, envelope: string, context?: string): string
  needsRewrap(envelope: string): boolean
}

export interface EncryptedFieldOptions {
  /** The model field holding the row's owner (tenant id); writes must carry it in the same data. */
  owner: string
  /** The database column (for the default context "<table>.<column>"); default: the field name. */
  column?: string
  /** The envelope context; default "<table>.<column>". */
  context?: string
  /** Read legacy (non-kc1) values as they are instead of raising PlaintextValueError. */
  migratePlaintext?: boolean
}

export interface KeycustodyFieldsOptions {
  keyring: KeyringLike | (() => KeyringLike)
  /** Keyed by the client's model property (e.g. `account`). */
  models: Record<string, { table: string; id?: string; fields: Record<string, EncryptedFieldOptions> }>
}

/** The extension object for `prisma.$extends(...)`. */
export declare function keycustodyFields(opts: KeycustodyFieldsOptions): {
  name: 'keycustody'
  query: Record<string, unknown>
  result: Record<string, unknown>
}

/** The errors (declared by keycustody/orm, which both ORM packages share). */
export { OwnerMissingError, PlaintextValueError, RowDecryptError, UnsealedWriteError } from 'keycustody/orm'
