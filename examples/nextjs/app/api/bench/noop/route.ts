// Bench only (make bench-nextjs): the request alone (parse the same JSON, answer), so the
// table can show what the route's framework costs without any cryptography.
export const runtime = 'nodejs'

export async function POST(request: Request) {
  const { value } = (await request.json()) as { tenant: string; value: string }
  return Response.json({ ok: typeof value === 'string', length: 0 })
}
