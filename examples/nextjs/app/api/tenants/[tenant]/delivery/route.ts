// app/api/tenants/[tenant]/delivery/route.ts
// The receiving side of a browser delivery: the page sealed the key with sealForDelivery
// (keycustody-wasm) to the VM's public key; only the holder of the private key opens it. Here it
// is then sealed for storage as kc1 (as the VM would keep it).
import { openDelivery } from 'keycustody'
import { getKeyring } from '@/lib/keyring'
import { vmDeliveryKeypair } from '@/lib/delivery'
import { withKeycustody } from '@/lib/errors'
import { db } from '@/lib/db'

export const runtime = 'nodejs'

// POST the "kcd1…" blob as the body.
export async function POST(request: Request, { params }: { params: Promise<{ tenant: string }> }) {
  return withKeycustody('POST delivery', async () => {
    const { tenant } = await params
    const blob = await request.text()
    const key = openDelivery(vmDeliveryKeypair(tenant).privateKey, tenant, blob) // KC_DECRYPT_FAILED for another tenant's blob
    db.set(`${tenant}/openrouter_key`, getKeyring().seal(tenant, key, 'openrouter_key'))
    key.fill(0)
    return Response.json({ stored: true })
  })
}
