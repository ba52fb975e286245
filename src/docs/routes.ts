import { ScalarRender } from '@elysiajs/openapi/scalar'
import type { ApiReferenceConfigurationWithSource } from '@scalar/types/api-reference'
import { Elysia, type AnyElysia } from 'elysia'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { errorBody } from '../http/errors'
import type { Logger } from '../observability/logger'
import { buildDocument } from './document'

/**
 * The API reference's browser bundle, from the installed @scalar/api-reference (its version is
 * the one package.json pins), or null when the package is missing. Served by this server, so
 * /docs needs no CDN and shows the same UI on every machine.
 */
export function scalarBundle(): { file: string; version: string } | null {
  try {
    // The package exports only its modules; the bundle sits beside them in dist/.
    const root = join(dirname(Bun.resolveSync('@scalar/api-reference', import.meta.dir)), '..')
    const file = join(root, 'dist', 'browser', 'standalone.js')
    const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }
    return existsSync(file) ? { file, version } : null
  } catch {
    return null
  }
}

const INFO = {
  title: 'Switchboard',
  version: '0.1.0',
  description:
    'Real-time messaging: REST for users, groups and history. Live delivery, typing and receipts are on the WebSocket at /ws/{user_id}, ' +
    'every frame described in docs/PROTOCOL.md. Every error is a status with the body {"error": {"code": "...", "message": "..."}}; ' +
    'request bodies are JSON (Content-Type: application/json).',
}

/** GET /docs (the API reference, rendered by the pinned Scalar bundle), /docs/json (the OpenAPI document) and the bundle itself. */
export function docsRoutes(deps: { app: () => AnyElysia; logger: Logger; bundle?: ReturnType<typeof scalarBundle> }) {
  const bundle = deps.bundle === undefined ? scalarBundle() : deps.bundle
  if (!bundle) deps.logger.warn('@scalar/api-reference is not installed: /docs answers 503 (npm install brings it); /docs/json is served')
  const unavailable = errorBody('docs_unavailable', 'the API reference UI (@scalar/api-reference) is not installed; the OpenAPI document is at /docs/json')
  // One document source (ApiReferenceConfigurationWithSource), where Scalar reads `agent`. The
  // Elysia helper's parameter type lacks that field and marks every option required, though the
  // bundle fills in defaults; hence the cast below.
  const configuration: Partial<ApiReferenceConfigurationWithSource> = {
    url: '/docs/json',
    // Nothing that reaches beyond this server: Scalar's fonts come from its CDN, and its AI
    // agent, MCP and SDK generators, developer toolbar and telemetry talk to scalar.com.
    withDefaultFonts: false,
    telemetry: false,
    agent: { disabled: true },
    mcp: { disabled: true },
    showDeveloperTools: 'never',
    defaultOpenAllTags: true,
    _integration: 'elysiajs',
  }
  const page =
    bundle &&
    ScalarRender(INFO, {
      ...configuration,
      // The version in the URL lets browsers keep the 4 MB bundle until the package changes.
      cdn: `/docs/scalar.js?v=${bundle.version}`,
    } as Parameters<typeof ScalarRender>[1])
  let document: object | undefined

  return new Elysia({ name: 'docs' })
    .get('/docs', ({ status }) => (page ? new Response(page, { headers: { 'content-type': 'text/html; charset=utf-8' } }) : status(503, unavailable)), {
      detail: { hide: true },
    })
    // Built on the first request, when every route is registered.
    .get('/docs/json', () => (document ??= buildDocument(deps.app(), INFO)), { detail: { hide: true } })
    .get(
      '/docs/scalar.js',
      ({ status }) =>
        bundle
          ? new Response(Bun.file(bundle.file), {
              headers: { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'public, max-age=31536000, immutable' },
            })
          : status(503, unavailable),
      { detail: { hide: true } },
    )
}
