// lib/keyring-wasm.ts
// The Edge runtime's keyring (keycustody-wasm), loaded on first use like lib/keyring.ts. The
// wasm package reads no environment itself: a missing variable gets the same typed error.
import init, { Keyring } from 'keycustody-wasm'
import wasm from 'keycustody-wasm/wasm?module' // a WebAssembly.Module (the Edge runtime compiles it)

let keyring: Promise<Keyring> | undefined

export function getKeyring(): Promise<Keyring> {
  keyring ??= (async () => {
    await init(wasm)
    const text = process.env.KEYCUSTODY_KEYRING
    if (!text) throw Object.assign(new Error('environment variable KEYCUSTODY_KEYRING is not set'), { code: 'KC_MISSING_ENV_VAR', envVar: 'KEYCUSTODY_KEYRING' })
    return Keyring.parse(text)
  })().catch((e: unknown) => {
    keyring = undefined // not cached: the next request tries again
    throw Object.assign(e as Error, { keyringLoad: true })
  })
  return keyring
}
