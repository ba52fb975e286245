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
})
/** An endpoint with its secret: answered only when it is created or rotated. */
export const EndpointWithSecret = t.Object({ ...Endpoint.properties, secret: t.String() })
export const EndpointList = t.Object({ endpoints: t.Array(Endpoint) })
