import { t, type Static } from 'elysia'
import { WEBHOOK_EVENT_TYPES } from './events'

export const EndpointParams = t.Object({ id: t.Numeric({ minimum: 1, maximum: 2 ** 31 - 1 }) })

export const CreateEndpoint = t.Object(
  {
    url: t.String({ minLength: 1, maxLength: 2048, description: 'http(s) URL; refused if it resolves to a private address (unless WEBHOOK_ALLOW_PRIVATE=1)' }),
    events: t.Array(t.String({ minLength: 1, maxLength: 64 }), { minItems: 1, maxItems: 32, description: `Types (${WEBHOOK_EVENT_TYPES.join(', ')}), families such as reaction.*, or *` }),
    secret: t.Optional(t.String({ minLength: 1, maxLength: 200, description: 'whsec_<base64 key of 24 to 64 bytes>; generated when absent' })),
  },
  { examples: [{ url: 'https://hooks.example.com/switchboard', events: ['message.created', 'reaction.*'] }] },
)
export type CreateEndpoint = Static<typeof CreateEndpoint>

const exampleEndpoint = {
  id: 1,
  url: 'https://hooks.example.com/switchboard',
  events: ['message.created', 'reaction.*'],
  source: 'api',
  created_at: '2026-12-04T09:00:00.000Z',
  failures: 0,
  paused_until: null,
  pending: 0,
  dead: 0,
}

export const Endpoint = t.Object({
  id: t.Integer(),
  url: t.String(),
  events: t.Array(t.String()),
  source: t.Union([t.Literal('env'), t.Literal('api')], { description: 'env: the WEBHOOK_URL one, rewritten at each start' }),
  created_at: t.String(),
  failures: t.Integer({ description: 'Consecutive failed attempts' }),
  paused_until: t.Union([t.String(), t.Null()], { description: 'The circuit is open until then' }),
  pending: t.Integer(),
  dead: t.Integer({ description: 'Dead-lettered deliveries (kept with their failure)' }),
}, { examples: [exampleEndpoint] })
/** An endpoint with its secret: answered only when it is created or rotated. */
export const EndpointWithSecret = t.Object({ ...Endpoint.properties, secret: t.String() }, { examples: [{ ...exampleEndpoint, secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' }] })
export const EndpointList = t.Object({ endpoints: t.Array(Endpoint) }, { examples: [{ endpoints: [exampleEndpoint] }] })
export const EndpointDeleted = t.Object({ deleted: t.Integer({ description: 'Its deliveries that were pending or dead-lettered' }) }, { examples: [{ deleted: 3 }] })
