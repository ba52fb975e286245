import { join } from 'node:path'

const ROOT = join(import.meta.dir, '..', '..')

/** Browser bundles served from memory: the test page's script and the client library on its own. */
const ENTRIES = {
  'app.js': join(ROOT, 'public', 'app.ts'),
  'client.js': join(ROOT, 'src', 'client', 'index.ts'),
  'sw.js': join(ROOT, 'public', 'sw.ts'),
} as const

export type AssetName = keyof typeof ENTRIES

let built: Promise<Map<AssetName, string>> | null = null

/**
 * Bundles the page and the client for browsers with Bun.build, once per process, in memory (no
 * file is written, no build step for the user). Lazy, so building an app costs nothing until a
 * browser asks; src/index.ts warms it at start.
 */
export function browserAssets(): Promise<Map<AssetName, string>> {
  built ??= (async () => {
    const assets = new Map<AssetName, string>()
    for (const [name, entry] of Object.entries(ENTRIES) as [AssetName, string][]) {
      const result = await Bun.build({ entrypoints: [entry], target: 'browser', format: 'esm', minify: true })
      if (!result.success) throw new AggregateError(result.logs, `bundling ${entry} failed`)
      assets.set(name, await result.outputs[0].text())
    }
    return assets
  })().catch((error) => {
    built = null // let the next request try again (e.g. after fixing a syntax error in dev)
    throw error
  })
  return built
}

export const ASSET_NAMES = Object.keys(ENTRIES) as AssetName[]
