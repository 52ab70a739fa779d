// app/page.tsx
// A static page (prerendered by `next build`, no keyring needed) with two client components:
// one seals a tenant's LLM key in the browser for delivery to the tenant's VM, the other reads
// an envelope's header with the full keycustody-wasm package.
import { DeliverKey } from './deliver-key'
import { InspectEnvelope } from './inspect-envelope'

export default function Page() {
  return (
    <main>
      <h1>Hand an LLM key to tenant acme&apos;s VM</h1>
      <DeliverKey tenant="acme" />
      <h2>Inspect an envelope</h2>
      <InspectEnvelope />
    </main>
  )
}
