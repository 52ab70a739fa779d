// app/inspect-envelope.tsx
'use client'
// The full keycustody-wasm package in the browser: `await init()` fetches its .wasm, which the
// bundler (Turbopack or webpack) emits beside the page's chunks. Here it reads a kc1 envelope's
// header (version, key id), which needs no key.
import { useState, type FormEvent } from 'react'
import init, { inspect } from 'keycustody-wasm'

export function InspectEnvelope() {
  const [status, setStatus] = useState('idle')

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault()
    const envelope = String(new FormData(event.currentTarget).get('envelope'))
    try {
      await init()
      const { version, kid } = inspect(envelope)
      setStatus(`kc${version}, kid ${kid}`)
    } catch (e) {
      setStatus(`error: ${(e as { code?: string }).code ?? String(e)}`)
    }
  }

  return (
    <form onSubmit={onSubmit}>
      <label>
        Envelope (kc1.…) <input name="envelope" required />
      </label>
      <button type="submit" name="inspect">Inspect</button>
      <output data-testid="inspect-status">{status}</output>
    </form>
  )
}
