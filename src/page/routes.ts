import { Elysia } from 'elysia'
import { errorBody } from '../http/errors'
import { browserAssets, type AssetName } from './assets'

async function serveAsset(name: AssetName, status: (code: 500, body: unknown) => unknown) {
  try {
    const body = (await browserAssets()).get(name)!
    return new Response(body, { headers: { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-cache' } })
  } catch (error) {
    console.error('bundling the browser scripts failed', error)
    return status(500, errorBody('internal', 'bundling the browser scripts failed'))
  }
}

/** Serves the bundled browser scripts; registered before /public/*, which serves the folder. */
export function pageRoutes() {
  return new Elysia({ name: 'page' })
    .get('/public/app.js', ({ status }) => serveAsset('app.js', status), { detail: { hide: true } })
    .get('/public/client.js', ({ status }) => serveAsset('client.js', status), { detail: { hide: true } })
}
