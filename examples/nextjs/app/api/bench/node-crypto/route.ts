// Bench only (make bench-nextjs): the same job by hand with node:crypto, as a baseline: a
// per-tenant key by HKDF-SHA256 from a root key, AES-256-GCM with a random nonce and the
// field as associated data, base64url text; then the reverse.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto'

export const runtime = 'nodejs'

let root: Buffer | undefined

export async function POST(request: Request) {
  const { tenant, value } = (await request.json()) as { tenant: string; value: string }
  root ??= randomBytes(32)
  const key = Buffer.from(hkdfSync('sha256', root, Buffer.alloc(0), `kc/${tenant}`, 32))
  const nonce = randomBytes(12)
  const c = createCipheriv('aes-256-gcm', key, nonce)
  c.setAAD(Buffer.from('openrouter_key'))
  const body = Buffer.concat([c.update(value, 'utf8'), c.final()])
  const sealed = `nc1.${Buffer.concat([nonce, body, c.getAuthTag()]).toString('base64url')}`
  const raw = Buffer.from(sealed.slice(4), 'base64url')
  const d = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12))
  d.setAAD(Buffer.from('openrouter_key'))
  d.setAuthTag(raw.subarray(raw.length - 16))
  const opened = Buffer.concat([d.update(raw.subarray(12, raw.length - 16)), d.final()]).toString('utf8')
  return Response.json({ ok: opened === value, length: sealed.length })
}
