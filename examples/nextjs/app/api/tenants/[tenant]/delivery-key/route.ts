// app/api/tenants/[tenant]/delivery-key/route.ts
// The public half of the tenant VM's delivery key (HPKE, X25519), and its fingerprint, which
// the VM shows to the user so that the page can pin it. In this example the "VM" is the route
// below: its private key is derived from the keyring per tenant, so nothing is stored.
import { deliveryKeyFingerprint } from 'keycustody'
import { vmDeliveryKeypair } from '@/lib/delivery'
import { withKeycustody } from '@/lib/errors'

export const runtime = 'nodejs'

export async function GET(_request: Request, { params }: { params: Promise<{ tenant: string }> }) {
  return withKeycustody('GET delivery-key', async () => {
    const { tenant } = await params
    const { publicKey } = vmDeliveryKeypair(tenant)
    return Response.json({ publicKey, fingerprint: deliveryKeyFingerprint(publicKey) })
  })
}
