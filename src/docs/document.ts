import { toOpenAPISchema } from '@elysiajs/openapi'
import type { AnyElysia, TSchema } from 'elysia'
import { isAdminRoute, isPublicRoute } from '../auth/policy'
import { ErrorBody, errorBody } from '../http/errors'
import { UNLIMITED } from '../limits/rest-limits'

type Json = Record<string, any>

/** A TypeBox schema as plain JSON Schema: no symbols, and no `error` wording, which is for 422 messages only. */
function jsonSchema(schema: TSchema): Json {
  return JSON.parse(JSON.stringify(schema, (key, value) => (key === 'error' && typeof value === 'string' ? undefined : value)))
}

const errorSchema = jsonSchema(ErrorBody)
const rateLimitedSchema = {
  ...errorSchema,
  properties: { ...errorSchema.properties, retry_after: { type: 'number', description: 'Seconds to wait before retrying' } },
}

/** A refusal every route of a kind can meet, added where a plugin rather than the route gives it. */
interface Refusal {
  status: string
  description: string
  examples: [code: string, message: string][]
  schema?: Json
}

const unauthenticated: Refusal = {
  status: '401',
  description: 'AUTH=jwt: no token, or one that is not valid (expired, wrong signature or issuer, too long-lived)',
  examples: [
    ['missing_token', 'send Authorization: Bearer <token>'],
    ['invalid_token', 'the token has expired'],
  ],
}
const rateLimited: Refusal = {
  status: '429',
  description: 'Too many requests from this user or address: wait Retry-After seconds',
  examples: [['rate_limited', 'too many requests: wait retry_after seconds']],
  schema: { $ref: '#/components/schemas/RateLimited' },
}
const invalid: Refusal = {
  status: '422',
  description: 'A field of the wrong type or shape: the message names it and what it expects',
  examples: [['validation_failed', 'limit: at most 200 (got 500)']],
}
const bodyRefusals: Refusal[] = [
  {
    status: '400',
    description: 'The body is not JSON, or nests deeper than 32 levels',
    examples: [
      ['invalid_json', 'the body is not valid JSON'],
      ['nesting_too_deep', 'the JSON body nests deeper than 32 levels'],
    ],
  },
  { status: '408', description: 'The body stopped arriving (BODY_TIMEOUT_SECONDS)', examples: [['body_timeout', 'no part of the body arrived for 5 s']] },
  { status: '413', description: 'The body is larger than MAX_BODY_BYTES', examples: [['body_too_large', 'the body is larger than 262144 bytes']] },
  {
    status: '415',
    description: 'The body is not sent as application/json',
    examples: [['unsupported_media_type', 'send the body as JSON with Content-Type: application/json (not application/x-www-form-urlencoded)']],
  },
]

/** Moves a body's schema `examples` to its media type, named by error code, where viewers show them. */
function exampleNames(response: Json): void {
  for (const media of Object.values<Json>(response.content ?? {})) {
    const examples: unknown[] | undefined = media.schema?.examples
    if (!examples) continue
    delete media.schema.examples
    media.examples = Object.fromEntries(
      examples.map((value, i) => [(value as { error?: { code?: string } }).error?.code ?? (examples.length > 1 ? `example ${i + 1}` : 'example'), { value }]),
    )
  }
}

/** Adds a refusal to an operation's responses, or its examples to the response it already documents. */
function addRefusal(responses: Json, refusal: Refusal): void {
  const examples = Object.fromEntries(refusal.examples.map(([code, message]) => [code, { value: errorBody(code, message) }]))
  const existing: Json | undefined = responses[refusal.status]
  const media = existing?.content?.['application/json']
  if (media) {
    existing!.description = `${existing!.description}; ${refusal.description[0].toLowerCase()}${refusal.description.slice(1)}`
    media.examples = { ...media.examples, ...examples }
    return
  }
  responses[refusal.status] = {
    description: refusal.description,
    content: { 'application/json': { schema: refusal.schema ?? { $ref: '#/components/schemas/Error' }, examples } },
  }
}

/**
 * The OpenAPI document of the app's routes. Elysia's generator does most of it; this adds what it
 * cannot know: bodies are JSON only (it lists forms and multipart, and lists nothing once a body
 * parser of our own is installed), the public routes need no token, the refusals the policy, rate
 * limits and body reader give on every route they guard, examples where a viewer shows them, and
 * query parameters with a default are optional.
 */
export function buildDocument(app: AnyElysia, info: { title: string; version: string; description: string }): Json {
  const { paths, components } = toOpenAPISchema(app) as { paths: Json; components: Json }
  for (const route of app.routes) {
    const operation: Json | undefined = paths[route.path.replace(/:([^/]+)/g, '{$1}')]?.[route.method.toLowerCase()]
    if (!operation) continue
    const hooks = route.hooks as { body?: TSchema }
    if (hooks.body) {
      operation.requestBody = { required: true, content: { 'application/json': { schema: jsonSchema(hooks.body) } } }
      exampleNames(operation.requestBody)
    }
    for (const parameter of operation.parameters ?? []) if (parameter.schema?.default !== undefined) parameter.required = false
    const responses: Json = (operation.responses ??= {})
    for (const response of Object.values<Json>(responses)) exampleNames(response)
    if (hooks.body) for (const refusal of bodyRefusals) addRefusal(responses, refusal)
    if (hooks.body || operation.parameters?.length) addRefusal(responses, invalid)
    if (isPublicRoute(route.method, route.path)) operation.security = []
    // The admin routes declare their own scheme (ADMIN_TOKEN) and their own 401.
    else if (!isAdminRoute(route.path)) addRefusal(responses, unauthenticated)
    if (!UNLIMITED.has(route.path)) addRefusal(responses, rateLimited)
  }
  return {
    openapi: '3.1.0',
    info,
    tags: [
      { name: 'users' },
      { name: 'groups' },
      { name: 'messages' },
      { name: 'attachments', description: 'Files sent in messages: upload (multipart, the one body that is not JSON), download, thumbnails' },
      { name: 'realtime', description: 'WebSocket and presence' },
      { name: 'operations', description: 'Liveness, readiness and metrics: no token needed' },
      { name: 'admin', description: "The operator's view: ADMIN_TOKEN, never a user's token" },
    ],
    security: [{ bearer: [] }],
    paths,
    components: {
      ...components,
      schemas: { ...components.schemas, Error: errorSchema, RateLimited: rateLimitedSchema },
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: "AUTH=jwt (production): the token's `sub` is the acting user's id. Under AUTH=none (development) no token is needed.",
        },
        adminToken: {
          type: 'http',
          scheme: 'bearer',
          description: 'ADMIN_TOKEN (the /admin/api routes). Without one set they answer only this machine under AUTH=none, and 404 under AUTH=jwt.',
        },
      },
    },
  }
}
