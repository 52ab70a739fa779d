// app/api/tenants/[tenant]/openrouter-key/route.ts
// A tenant's OpenRouter key: sealed with the tenant's own derived key and bound to this field,
// so the database holds only kc1 text and a value copied to another tenant's row (or another
// column) does not open.
import { inspect } from 'keycustody'
import { getKeyring } from '@/lib/keyring'
import { withKeycustody } from '@/lib/errors'
import { db } from '@/lib/db'

export const runtime = 'nodejs' // a native addon: the Node.js runtime, not Edge

type Ctx = { params: Promise<{ tenant: string }> }

// PUT {"key": "sk-or-..."}: seal the tenant's key, bound to this tenant and this field.
export async function PUT(request: Request, { params }: Ctx) {
  return withKeycustody('PUT openrouter-key', async () => {
    const { tenant } = await params
    const { key } = (await request.json()) as { key: string }
    const sealed = getKeyring().seal(tenant, key, 'openrouter_key') // "kc1.AQAAAA…"
    db.set(`${tenant}/openrouter_key`, sealed)
    return Response.json({ stored: true, kid: inspect(sealed).kid })
  })
}

// GET: open it server-side (to call the provider); the response shows a hint only.
// Stable codes: KC_DECRYPT_FAILED (another tenant's or field's value, or tampering),
// KC_KEY_RETIRED, KC_UNKNOWN_KEY, KC_MALFORMED; KC_MISSING_ENV_VAR without a keyring.
export async function GET(_request: Request, { params }: Ctx) {
  return withKeycustody('GET openrouter-key', async () => {
    const { tenant } = await params
    const keyring = getKeyring()
    const sealed = db.get(`${tenant}/openrouter_key`)
    if (!sealed) return Response.json({ configured: false }, { status: 404 })
    const key = keyring.openText(tenant, sealed, 'openrouter_key')
    return Response.json({ configured: true, hint: `${key.slice(0, 9)}…`, rewrap: keyring.needsRewrap(sealed) })
  }, true)
}
