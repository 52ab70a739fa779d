// lib/keyring.ts
// The platform keyring, loaded on first use, never at module top: `next build` imports route
// modules to collect their configuration, and KEYCUSTODY_KEYRING is a run-time secret that the
// build machine should not have. A missing or wrong keyring fails here, at the first request,
// with keycustody's typed error (KC_MISSING_ENV_VAR, KC_MALFORMED, ...): see lib/errors.ts.
import { Keyring } from 'keycustody'

let keyring: Keyring | undefined

export function getKeyring(): Keyring {
  if (!keyring) {
    try {
      keyring = Keyring.fromEnv() // KEYCUSTODY_KEYRING: the keyring's JSON text
    } catch (e) {
      // Not cached: the next request tries again. Marked as the server's fault (a 500).
      throw Object.assign(e as Error, { keyringLoad: true })
    }
  }
  return keyring
}
