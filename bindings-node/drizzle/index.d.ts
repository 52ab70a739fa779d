// keycustody-drizzle: Drizzle ORM columns sealed with keycustody for the row's owner.
import type { Table } from 'drizzle-orm'

/** The column's stored text as selected, before it is opened (not a string). */
export declare class StoredEnvelope {
  readonly envelope: string
  constructor(envelope: string)
}
/** An envelope sealed by `fields.seal()` for its row: the only value the column type writes. */
export declare class SealedValue {
  readonly envelope: string
  constructor(envelope: string)
}

/** The errors (declared by keycustody/orm, which both ORM packages share). */
export { OwnerMissingError, PlaintextValueError, RowDecryptError, UnsealedWriteError } from 'keycustody/orm'

/** A TEXT column holding a kc1 envelope (drizzle-orm/pg-core). */
export declare function encryptedText(name?: string): any
/** A TEXT column holding a kc1 envelope (drizzle-orm/sqlite-core). */
export declare function encryptedTextSqlite(name?: string): any

/** The part of keycustody's `Keyring` the helper calls. */
export interface KeyringLike {
  seal(owner: string, plaintext: string, context?: string): string
  openText(owner: string, envelope: string, context?: string): string
  needsRewrap(envelope: string): boolean
}

export interface EncryptedColumnOptions<K extends string> {
  /** The key of the column holding the row's owner (tenant id). */
  owner: K
  /** The envelope context; default "<table>.<column>". */
  context?: string
  /** Return legacy (non-kc1) values as they are, listed in the row's `needsSealing`. */
  migratePlaintext?: boolean
}

export interface EncryptedFields {
  /** A copy of `row` with each encrypted value sealed for `row[owner]` (throws OwnerMissingError). */
  seal<R extends Record<string, unknown>>(row: R): R
  /** A copy of a selected row with each envelope opened for the row's owner. */
  open<R extends Record<string, unknown>>(row: R): R & { readonly needsSealing?: string[] }
  /** The context each column is sealed with. */
  readonly contexts: Record<string, string>
}

export declare function encryptedFields<T extends Table>(
  table: T,
  opts: {
    keyring: KeyringLike | (() => KeyringLike)
    columns: Record<string, EncryptedColumnOptions<string>>
    /** The key of the row id named in errors; default "id". */
    id?: string
  },
): EncryptedFields
