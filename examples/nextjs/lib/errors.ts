// lib/errors.ts
// keycustody's errors carry a stable `code` (KC_*) and non-secret details; their messages are
// fixed texts with no secret, owner or other input in them. Routes answer them as JSON and log
// the code only, never the request body or the keyring.
type KcError = Error & { code: string; envVar?: string; malformedKind?: string; kid?: number; claim?: string; keyringLoad?: boolean }

// Errors that a request can cause (a bad blob, another tenant's envelope, a wrong fingerprint).
const CLIENT_ERRORS = new Set(['KC_DECRYPT_FAILED', 'KC_MALFORMED', 'KC_INVALID_OWNER', 'KC_INVALID_ARGUMENT', 'KC_CLAIM_MISMATCH', 'KC_TOO_LARGE'])

function isKcError(e: unknown): e is KcError {
  return e instanceof Error && typeof (e as { code?: unknown }).code === 'string' && (e as KcError).code.startsWith('KC_')
}

// Runs a handler; a keycustody error becomes {"error": "KC_…", …details} with 400 (the request's
// fault) or 500 (the keyring could not be loaded, or a stored value does not open).
export async function withKeycustody(route: string, handler: () => Promise<Response>, stored = false): Promise<Response> {
  try {
    return await handler()
  } catch (e) {
    if (!isKcError(e)) throw e
    const status = e.keyringLoad || stored || !CLIENT_ERRORS.has(e.code) ? 500 : 400
    const where = e.keyringLoad ? 'loading the keyring' : route
    console.error(`keycustody: ${where}: ${e.code}${e.envVar ? ` (${e.envVar})` : ''}${e.malformedKind ? ` (${e.malformedKind})` : ''}`)
    const { envVar, malformedKind, kid, claim } = e
    return Response.json({ error: e.code, envVar, malformedKind, kid, claim }, { status })
  }
}
