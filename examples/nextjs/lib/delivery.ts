// lib/delivery.ts
// The tenant VM's delivery key pair, derived from the keyring (a per-tenant subkey), so the
// example stores none. A real VM generates its own (generateDeliveryKeypair) and keeps it.
import { deriveDeliveryKeypair } from 'keycustody'
import { getKeyring } from '@/lib/keyring'

export function vmDeliveryKeypair(tenant: string) {
  const ikm = getKeyring().deriveKey('vm-delivery', tenant, 32)
  try {
    return deriveDeliveryKeypair(ikm)
  } finally {
    ikm.fill(0)
  }
}
