import { Elysia } from 'elysia'
import { realpath, stat } from 'node:fs/promises'
import { join, sep } from 'node:path'
import { errorBody } from '../http/errors'
import type { Logger } from '../observability/logger'
import { browserAssets, type AssetName } from './assets'

const PUBLIC_DIR = join(import.meta.dir, '..', '..', 'public')

/**
 * The regular file under `root` that the (still URL-encoded) path names, or null. Never a folder,
 * never a file outside `root`, however the path climbs (`..`, encoded slashes, symbolic links).
 */
export async function resolvePublicFile(root: string, encodedPath: string): Promise<string | null> {
  let path: string
  try {
    path = decodeURIComponent(encodedPath)
  } catch {
    return null
  }
  if (path.includes('\0')) return null
  try {
    const [realRoot, real] = await Promise.all([realpath(root), realpath(join(root, path))])
    // A prefix test alone would accept a sibling such as `public-secret/`.
    if (!real.startsWith(realRoot + sep)) return null
    return (await stat(real)).isFile() ? real : null
  } catch {
    return null
  }
}

/** The page (`/`), its bundled scripts and the files of `public/`; registered in that order, so the bundles win over the folder. */
export function pageRoutes(deps: { logger: Logger }) {
  async function serveAsset(name: AssetName, status: (code: 500, body: unknown) => unknown) {
    try {
      const body = (await browserAssets()).get(name)!
      return new Response(body, { headers: { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-cache' } })
    } catch (error) {
      deps.logger.error({ err: error }, 'bundling the browser scripts failed')
      return status(500, errorBody('internal', 'bundling the browser scripts failed'))
    }
  }

  return new Elysia({ name: 'page' })
    .get('/', () => Bun.file(join(PUBLIC_DIR, 'index.html')), { detail: { hide: true } })
    .get('/public/app.js', ({ status }) => serveAsset('app.js', status), { detail: { hide: true } })
    .get('/public/client.js', ({ status }) => serveAsset('client.js', status), { detail: { hide: true } })
    // At the root: a service worker controls only the paths under its own (the page is `/`).
    .get('/sw.js', ({ status }) => serveAsset('sw.js', status), { detail: { hide: true } })
    .get('/public/*', async ({ params, status }) => {
      const file = await resolvePublicFile(PUBLIC_DIR, params['*'])
      return file ? Bun.file(file) : status(404, errorBody('not_found', 'no such file'))
    }, { detail: { hide: true } })
}
