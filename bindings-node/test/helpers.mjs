// Shared helpers for the node --test suites.
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import path from 'node:path'

const require = createRequire(import.meta.url)
export const here = path.dirname(fileURLToPath(import.meta.url))
export const pkgDir = path.resolve(here, '..')
export const repoRoot = path.resolve(pkgDir, '..')
export const vectorsDir = path.join(repoRoot, 'tests', 'vectors')
/** The package as users load it (`require('keycustody')`). */
export const kc = require(path.join(pkgDir, 'index.js'))

// Every core error kind and its stable code (keycustody::Error::kind()/code()).
export const CODES = {
  DecryptFailed: 'KC_DECRYPT_FAILED',
  Malformed: 'KC_MALFORMED',
  UnknownKey: 'KC_UNKNOWN_KEY',
  KeyRetired: 'KC_KEY_RETIRED',
  PrimaryKey: 'KC_PRIMARY_KEY',
  InvalidOwner: 'KC_INVALID_OWNER',
  InvalidArgument: 'KC_INVALID_ARGUMENT',
  TooLarge: 'KC_TOO_LARGE',
  InsecurePermissions: 'KC_INSECURE_PERMISSIONS',
  MissingEnvVar: 'KC_MISSING_ENV_VAR',
  Io: 'KC_IO',
  RandomUnavailable: 'KC_RANDOM_UNAVAILABLE',
  SignatureInvalid: 'KC_SIGNATURE_INVALID',
  TimestampOutOfTolerance: 'KC_TIMESTAMP_OUT_OF_TOLERANCE',
  Expired: 'KC_EXPIRED',
  Replayed: 'KC_REPLAYED',
  Locked: 'KC_LOCKED',
  NotYetValid: 'KC_NOT_YET_VALID',
  ClaimMismatch: 'KC_CLAIM_MISMATCH',
  KekUnavailable: 'KC_KEK_UNAVAILABLE',
  TenantShredded: 'KC_TENANT_SHREDDED',
  UnknownTenant: 'KC_UNKNOWN_TENANT',
  Conflict: 'KC_CONFLICT',
  TenantExists: 'KC_TENANT_EXISTS',
  AuditBroken: 'KC_AUDIT_BROKEN',
}

/** Asserts `e` is a keycustody error of `kind` (and of class `cls`). */
export function assertKcError(e, kind, cls = Error) {
  assert.ok(e instanceof cls, `expected ${cls.name}, got ${e && e.constructor && e.constructor.name}: ${e && e.message}`)
  assert.equal(e.kind, kind, `kind (message: ${e.message})`)
  assert.equal(e.code, CODES[kind], 'code')
  assert.equal(typeof e.message, 'string')
  assert.ok(e.message.length > 0)
}

/** Runs `fn`, asserting it throws a keycustody error of `kind`; returns the error. */
export function throwsKc(fn, kind, cls = Error) {
  let caught
  try {
    fn()
  } catch (e) {
    caught = e
  }
  assert.ok(caught !== undefined, `expected a ${kind} error, but nothing was thrown`)
  assertKcError(caught, kind, cls)
  return caught
}

/** Awaits `p`, asserting it rejects with a keycustody error of `kind`. */
export async function rejectsKc(p, kind, cls = Error) {
  let caught
  try {
    await p
  } catch (e) {
    caught = e
  }
  assert.ok(caught !== undefined, `expected a ${kind} rejection, but it resolved`)
  assertKcError(caught, kind, cls)
  return caught
}

export const hex = (h) => Buffer.from(h, 'hex')
