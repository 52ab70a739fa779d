// app/deliver-key.tsx
'use client'
// Seals the key in the browser to the VM's delivery public key (HPKE); the Next.js server, which
// relays it, cannot read it. The fingerprint the VM shows is pinned: a substituted public key is
// refused (KC_CLAIM_MISMATCH) before anything is sent. keycustody-wasm/delivery is the small
// module for this one job (its wasm is inside it, ready on import: nothing to fetch or configure).
import { useState, type FormEvent } from 'react'
import { sealForDelivery } from 'keycustody-wasm/delivery'

export function DeliverKey({ tenant }: { tenant: string }) {
  const [status, setStatus] = useState('idle')

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault()
    const form = new FormData(event.currentTarget)
    try {
      const { publicKey } = (await (await fetch(`/api/tenants/${tenant}/delivery-key`)).json()) as { publicKey: string }
      const blob = sealForDelivery(publicKey, tenant, String(form.get('key')), String(form.get('fingerprint'))) // "kcd1…"
      const res = await fetch(`/api/tenants/${tenant}/delivery`, { method: 'POST', body: blob })
      const body = (await res.json()) as { stored?: boolean; error?: string }
      setStatus(res.ok && body.stored ? 'delivered' : `refused: ${body.error}`)
    } catch (e) {
      setStatus(`error: ${(e as { code?: string }).code ?? String(e)}`)
    }
  }

  return (
    <form onSubmit={onSubmit}>
      <label>
        OpenRouter key <input name="key" type="password" autoComplete="off" required />
      </label>
      <label>
        VM key fingerprint (kcfp1.…) <input name="fingerprint" required />
      </label>
      <button type="submit" name="deliver">Seal and send</button>
      <output data-testid="status">{status}</output>
    </form>
  )
}
