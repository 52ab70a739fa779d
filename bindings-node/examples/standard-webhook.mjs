// app/api/webhooks/standard/route.js: a Standard Webhooks receiver (Svix, Clerk, Resend, ...).
import { verifyStandardWebhook, ReplayGuard } from 'keycustody'

export const runtime = 'nodejs'

const seen = new ReplayGuard()

export async function POST(request) {
  const body = Buffer.from(await request.arrayBuffer())
  try {
    // The request's headers as they come: webhook-id, webhook-timestamp and
    // webhook-signature are found in any case; a missing or repeated one is KC_MALFORMED.
    verifyStandardWebhook(body, request.headers, process.env.WEBHOOK_SECRET)
    seen.checkAndRecord(request.headers.get('webhook-id'))
    // ... handle JSON.parse(body) ...
    return new Response(null, { status: 204 })
  } catch (e) {
    if (e.code === 'KC_REPLAYED') return new Response(null, { status: 204 }) // already handled
    return Response.json({ error: e.code, malformed: e.malformedKind }, { status: 400 })
  }
}
