// app/api/tenants/[tenant]/openrouter-key/route.js: a Next.js App Router route handler.
import { Keyring, inspect } from 'keycustody'

export const runtime = 'nodejs' // a native addon: the Node.js runtime, not Edge

// Loaded once per server process from KEYCUSTODY_KEYRING (the keyring's JSON text).
const keyring = Keyring.fromEnv()

// Stands in for your database: it only ever stores kc1 text.
export const db = new Map()

// PUT {"key": "sk-or-..."}: seal the tenant's key, bound to this tenant and this field.
export async function PUT(request, { params }) {
  const { tenant } = await params
  const { key } = await request.json()
  const sealed = keyring.seal(tenant, key, 'openrouter_key') // "kc1.AQAAAA…"
  db.set(`${tenant}/openrouter_key`, sealed)
  return Response.json({ stored: true, kid: inspect(sealed).kid })
}

// GET: open it server-side (to call the provider); the response shows a hint only.
export async function GET(request, { params }) {
  const { tenant } = await params
  const sealed = db.get(`${tenant}/openrouter_key`)
  if (!sealed) return Response.json({ configured: false }, { status: 404 })
  try {
    const key = keyring.openText(tenant, sealed, 'openrouter_key')
    return Response.json({ configured: true, hint: `${key.slice(0, 9)}…`, rewrap: keyring.needsRewrap(sealed) })
  } catch (e) {
    // Stable codes: KC_DECRYPT_FAILED (another tenant's or field's value, or tampering),
    // KC_KEY_RETIRED, KC_UNKNOWN_KEY, KC_MALFORMED, ...
    return Response.json({ error: e.code }, { status: 500 })
  }
}
