// next.config.ts
import type { NextConfig } from 'next'

const nextConfig: NextConfig = {
  // keycustody is a native addon (a .node file): Next must load it from node_modules at run
  // time with Node's require, not bundle it.
  serverExternalPackages: ['keycustody'],
}

export default nextConfig
