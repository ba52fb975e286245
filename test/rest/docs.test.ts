// The OpenAPI document at /docs/json says what each route answers, with an example of each
// answer, which routes need a token, and that bodies are JSON; /docs serves the pinned UI itself.
import { describe, expect, test } from 'bun:test'
import { Value } from '@sinclair/typebox/value'
import { readFileSync } from 'node:fs'
import { Elysia, type AnyElysia } from 'elysia'
import { docsRoutes, scalarBundle } from '../../src/docs/routes'
import { createLogger } from '../../src/observability/logger'
import { api, startServer } from '../helpers/server'

type Json = Record<string, any>
const PUBLIC = ['/health', '/ready', '/metrics']

async function documentOf() {
  await using server = await startServer()
  return { doc: (await api(server, 'GET', '/docs/json')).body as Json, routes: server.switchboard.app.routes }
}

const operations = (doc: Json) =>
  Object.entries<Json>(doc.paths).flatMap(([path, ops]) => Object.entries<Json>(ops).map(([method, op]) => ({ path, method, op })))

describe('/docs/json', () => {
  test('every route is there, with a summary, and every response has a description and an example', async () => {
    const { doc } = await documentOf()
    const ops = operations(doc)
    for (const path of ['/users', '/users/{id}', '/groups', '/groups/{id}', '/groups/{id}/members', '/groups/{id}/members/{user_id}', '/messages', '/messages/{id}/read', '/messages/conversations/{user_id}', '/ws/online-users', '/ws/{user_id}', '/health', '/ready', '/metrics'])
      expect(Object.keys(doc.paths)).toContain(path)
    for (const { path, method, op } of ops) {
      expect(`${method} ${path}: ${op.summary}`).not.toEndWith('undefined')
      for (const [status, response] of Object.entries<Json>(op.responses ?? {})) {
        const where = `${method} ${path} ${status}`
        expect(`${where}: ${response.description}`).not.toMatch(/: (undefined|Response for status \d+)$/)
        const media = Object.values<Json>(response.content ?? {})
        expect(media.length > 0 && media.every((m) => Object.keys(m.examples ?? {}).length > 0) ? where : `${where} has no example`).toBe(where)
      }
    }
  })

  test('the refusals each route can meet are documented with the JSON error body', async () => {
    const { doc } = await documentOf()
    const statuses = (path: string, method: string) => Object.keys(doc.paths[path][method].responses).sort()
    expect(statuses('/users', 'post')).toEqual(['201', '400', '401', '408', '409', '413', '415', '422', '429'])
    expect(statuses('/users/{id}', 'get')).toEqual(['200', '401', '404', '422', '429'])
    expect(statuses('/messages', 'post')).toEqual(['200', '201', '400', '401', '403', '404', '408', '410', '413', '415', '422', '429', '503'])
    expect(statuses('/groups/{id}/members', 'post')).toEqual(['201', '400', '401', '403', '404', '408', '409', '413', '415', '422', '429'])
    expect(statuses('/health', 'get')).toEqual(['200'])
    expect(statuses('/ready', 'get')).toEqual(['200', '503'])
    const conflict = doc.paths['/users'].post.responses['409'].content['application/json']
    expect(conflict.examples.username_taken.value).toEqual({ error: { code: 'username_taken', message: 'username "alice" is taken' } })
    // A 413 on POST /messages is either the body or the message.
    expect(Object.keys(doc.paths['/messages'].post.responses['413'].content['application/json'].examples).sort()).toEqual(['body_too_large', 'message_too_long'])
    expect(doc.components.schemas.Error.properties.error.required).toEqual(['code', 'message'])
  })

  test('a bearer token is required everywhere but the operational routes, and the admin token on /admin/api', async () => {
    const { doc } = await documentOf()
    expect(doc.security).toEqual([{ bearer: [] }])
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' })
    for (const { path, op } of operations(doc)) {
      if (PUBLIC.includes(path)) expect(op.security).toEqual([])
      else if (path.startsWith('/admin/')) {
        // ADMIN_TOKEN, never a user's token.
        expect(op.security).toEqual([{ adminToken: [] }])
        expect(Object.keys(op.responses['401'].content['application/json'].examples)).toEqual(['missing_admin_token', 'invalid_admin_token'])
      } else {
        expect(op.security).toBeUndefined()
        expect(op.responses['401']).toBeDefined()
      }
    }
  })

  test('bodies are JSON only, and /health, /ready and /metrics have schemas', async () => {
    const { doc } = await documentOf()
    const withBodies = operations(doc).filter(({ op }) => op.requestBody)
    expect(withBodies.map(({ method, path }) => `${method} ${path}`).sort()).toEqual(['delete /push/subscriptions', 'patch /messages/{id}', 'post /admin/api/webhooks', 'post /attachments', 'post /groups', 'post /groups/{id}/members', 'post /messages', 'post /push/subscriptions', 'post /users'])
    // The one exception: an upload is multipart/form-data, its file in the field `file`.
    const upload = withBodies.find(({ path }) => path === '/attachments')!.op
    expect(Object.keys(upload.requestBody.content)).toEqual(['multipart/form-data'])
    expect(upload.requestBody.content['multipart/form-data'].schema.required).toEqual(['file'])
    for (const { op } of withBodies.filter(({ path }) => path !== '/attachments')) {
      expect(Object.keys(op.requestBody.content)).toEqual(['application/json'])
      expect(op.requestBody.content['application/json'].schema.type).toBe('object')
    }
    expect(doc.paths['/health'].get.responses['200'].content['application/json'].schema.properties.status.const).toBe('ok')
    expect(doc.paths['/ready'].get.responses['503'].content['application/json'].schema.properties.status.const).toBe('unavailable')
    expect(doc.paths['/metrics'].get.responses['200'].content['text/plain'].schema.type).toBe('string')
    // A query parameter with a default may be left out.
    expect(doc.paths['/messages'].get.parameters.find((p: Json) => p.name === 'limit')).toMatchObject({ required: false, schema: { type: 'integer', maximum: 200, default: 50 } })
  })

  test('every example in the schemas is valid for its schema', async () => {
    const { routes } = await documentOf()
    let checked = 0
    for (const route of routes) {
      const hooks = route.hooks as { body?: any; response?: Record<string, any> }
      for (const schema of [hooks.body, ...Object.values(hooks.response ?? {})]) {
        for (const example of schema?.examples ?? []) {
          expect(Value.Check(schema, example) ? 'valid' : `${route.method} ${route.path}: ${JSON.stringify(example)}`).toBe('valid')
          checked++
        }
      }
    }
    expect(checked).toBeGreaterThan(40)
  })
})

const bundle = scalarBundle()
describe('/docs', () => {
  test('serves the pinned Scalar bundle itself, and the page loads it from here', async () => {
    expect(bundle).not.toBeNull()
    await using server = await startServer()
    const page = await fetch(server.url + '/docs')
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toContain('text/html')
    const html = await page.text()
    expect(html).toContain(`src="/docs/scalar.js?v=${bundle!.version}"`)
    expect(html).not.toMatch(/https?:\/\/(cdn|fonts|unpkg)/)
    const script = await fetch(`${server.url}/docs/scalar.js?v=${bundle!.version}`)
    expect(script.status).toBe(200)
    expect(script.headers.get('content-type')).toContain('javascript')
    expect((await script.arrayBuffer()).byteLength).toBe(readFileSync(bundle!.file).byteLength)
  })

  test('with the bundle missing from the install, answers 503 with the JSON error and still serves the document', async () => {
    const logger = createLogger('silent')
    let app: AnyElysia
    app = new Elysia().use(docsRoutes({ app: () => app, logger, bundle: null })).get('/users/:id', () => 'x')
    for (const path of ['/docs', '/docs/scalar.js']) {
      const res = await app.handle(new Request(`http://localhost${path}`))
      expect(res.status).toBe(503)
      expect(((await res.json()) as Json).error.code).toBe('docs_unavailable')
    }
    const doc = await app.handle(new Request('http://localhost/docs/json'))
    expect(doc.status).toBe(200)
    expect(Object.keys(((await doc.json()) as Json).paths)).toContain('/users/{id}')
  })
})
