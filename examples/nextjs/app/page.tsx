// A static page (prerendered by `next build`, no keyring needed) with the client component
// that seals a tenant's LLM key in the browser for delivery to the tenant's VM.
import { DeliverKey } from './deliver-key'

export default function Page() {
  return (
    <main>
      <h1>Hand an LLM key to tenant acme's VM</h1>
      <DeliverKey tenant="acme" />
    </main>
  )
}
