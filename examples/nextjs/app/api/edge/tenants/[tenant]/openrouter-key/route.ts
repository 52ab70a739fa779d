// app/api/edge/tenants/[tenant]/openrouter-key/route.ts
// The same kc1 envelopes on the Edge runtime, with keycustody-wasm: PUT seals (for a KV store,
// say), POST opens an envelope sealed anywhere (Node, Python, Rust) and answers a hint only.
import { getKeyring } from '@/lib/keyring-wasm'
import { withKeycustody } from '@/lib/errors'

export const runtime = 'edge'

type Ctx = { params: Promise<{ tenant: string }> }
// Set by the Edge runtime itself (absent in Node): proves where the route ran.
const where = () => ((globalThis as { EdgeRuntime?: string }).EdgeRuntime ? 'edge' : 'nodejs')

export async function PUT(request: Request, { params }: Ctx) {
  return withKeycustody('PUT edge openrouter-key', async () => {
    const { tenant } = await params
    const { key } = (await request.json()) as { key: string }
    const sealed = (await getKeyring()).seal(tenant, key, 'openrouter_key')
    return Response.json({ sealed, runtime: where() })
  })
}

export async function POST(request: Request, { params }: Ctx) {
  return withKeycustody('POST edge openrouter-key', async () => {
    const { tenant } = await params
    const key = (await getKeyring()).openText(tenant, await request.text(), 'openrouter_key')
    return Response.json({ hint: `${key.slice(0, 9)}…`, runtime: where() })
  })
}
