// The Edge runtime's keyring (keycustody-wasm), loaded on first use like lib/keyring.ts. The
// wasm package reads no environment itself: a missing variable gets the same typed error.
import init, { Keyring } from 'keycustody-wasm'
import wasm from '../node_modules/keycustody-wasm/pkg/keycustody_wasm_bg.wasm?module'

let keyring: Promise<Keyring> | undefined

export function getKeyring(): Promise<Keyring> {
  keyring ??= (async () => {
    await init({ module_or_path: wasm })
    const text = process.env.KEYCUSTODY_KEYRING
    if (!text) throw Object.assign(new Error('environment variable KEYCUSTODY_KEYRING is not set'), { code: 'KC_MISSING_ENV_VAR', envVar: 'KEYCUSTODY_KEYRING' })
    return Keyring.parse(text)
  })().catch((e: unknown) => {
    keyring = undefined // not cached: the next request tries again
    throw Object.assign(e as Error, { keyringLoad: true })
  })
  return keyring
}
