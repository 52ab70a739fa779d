// Bench only (make bench-nextjs): seal then open one value for a tenant with keycustody.
import { getKeyring } from '@/lib/keyring'

export const runtime = 'nodejs'

export async function POST(request: Request) {
  const { tenant, value } = (await request.json()) as { tenant: string; value: string }
  const keyring = getKeyring()
  const sealed = keyring.seal(tenant, value, 'openrouter_key')
  const opened = keyring.openText(tenant, sealed, 'openrouter_key')
  return Response.json({ ok: opened === value, length: sealed.length })
}
