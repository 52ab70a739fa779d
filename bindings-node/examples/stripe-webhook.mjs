// app/api/webhooks/stripe/route.js: verify Stripe's signature on the raw body, once per event.
import { verifyStripeSignature, ReplayGuard } from 'keycustody'

export const runtime = 'nodejs'

// Per process; across many instances use the SQLite/PostgreSQL guard of keycustody-store.
const seen = new ReplayGuard(100_000, 600)

export async function POST(request) {
  const body = Buffer.from(await request.arrayBuffer()) // the raw bytes, never re-serialised JSON
  try {
    verifyStripeSignature(body, request.headers.get('stripe-signature') ?? '', process.env.STRIPE_WEBHOOK_SECRET)
    const event = JSON.parse(body)
    seen.checkAndRecord(event.id)
    // ... handle event.type ...
    return Response.json({ received: true })
  } catch (e) {
    if (e.code === 'KC_REPLAYED') return Response.json({ received: true }) // already handled
    return Response.json({ error: e.code ?? 'KC_MALFORMED' }, { status: 400 })
  }
}
