import { Elysia, t } from 'elysia'
import { openapi } from '@elysiajs/openapi'
import { join } from 'node:path'
import type { Broker } from './broker/broker'
import type { Config } from './config'
import type { Store } from './db/store'
import { groupRoutes } from './groups/routes'
import { AppError, errorBody } from './http/errors'
import { Directory } from './messages/directory'
import { messageRoutes } from './messages/routes'
import { MessagingService } from './messages/service'
import { MessageWriter } from './messages/writer'
import { LocalConnections } from './realtime/connections'
import { Delivery } from './realtime/delivery'
import { createGateway } from './realtime/gateway'
import { userRoutes } from './users/routes'

export interface AppDeps {
  store: Store
  broker: Broker
  config: Config
}

const PUBLIC_DIR = join(import.meta.dir, '..', 'public')

/** Builds the whole server from its dependencies. Reads no environment and listens on nothing. */
export function createApp({ store, broker, config }: AppDeps) {
  const directory = new Directory(store)
  const connections = new LocalConnections()
  const writer = new MessageWriter(store)
  let app: Elysia<any, any, any, any, any, any, any>
  const delivery = new Delivery(() => app?.server ?? null, broker)
  // Cluster-wide in cluster mode (Redis), this instance's sockets otherwise.
  const presence = broker.createPresence(connections)
  delivery.presence = presence
  const messaging = new MessagingService({ store, directory, writer, delivery, connections, presence, maxMessageLength: config.maxMessageLength })
  const gateway = createGateway({ store, directory, messaging, delivery, connections, maxMessageLength: config.maxMessageLength })
  /** A membership change made here: this instance's sockets now, the other instances through the broker. */
  const onMembership = (groupId: number, userId: number, isMember: boolean) => {
    gateway.applyMembership(groupId, userId, isMember)
    broker.publishControl({ kind: 'membership', groupId, userId, isMember })
  }

  app = new Elysia({
    // Unknown fields are refused (422), as on the WebSocket, instead of silently dropped.
    normalize: false,
    // Bun's own cap only stops bodies without Content-Length; declared sizes get a JSON 413 below.
    serve: { maxRequestBodySize: config.maxBodyBytes + 1024 * 1024 },
    websocket: {
      maxPayloadLength: config.maxFrameBytes,
      idleTimeout: config.idleTimeoutSeconds,
      sendPings: true,
      backpressureLimit: config.backpressureLimitBytes,
      closeOnBackpressureLimit: true,
      perMessageDeflate: false,
    },
  })
    .use(
      openapi({
        path: '/docs',
        documentation: {
          info: {
            title: 'Switchboard',
            version: '0.1.0',
            description: 'Real-time messaging: REST for users, groups and history; the WebSocket protocol is in docs/PROTOCOL.md.',
          },
          tags: [
            { name: 'users' },
            { name: 'groups' },
            { name: 'messages' },
            { name: 'realtime', description: 'WebSocket and presence' },
            { name: 'operations' },
          ],
        },
      }),
    )
    .onRequest(({ request, status }) => {
      const length = Number(request.headers.get('content-length') ?? 0)
      if (length > config.maxBodyBytes) return status(413, errorBody('body_too_large', `the body is larger than ${config.maxBodyBytes} bytes`))
    })
    .onError(({ code, error, status }) => {
      if (error instanceof AppError) return status(error.status, errorBody(error.code, error.message))
      switch (code) {
        case 'VALIDATION':
          return status(422, errorBody('validation_failed', validationSummary(error)))
        case 'PARSE':
          return status(400, errorBody('invalid_json', 'the body is not valid JSON'))
        case 'NOT_FOUND':
          return status(404, errorBody('not_found', 'no such route'))
        default:
          console.error('unhandled error', error)
          return status(500, errorBody('internal', 'internal error'))
      }
    })
    .use(userRoutes({ store, directory, isOnline: (id) => presence.isOnline(id) }))
    .use(groupRoutes({ store, directory, onMembership }))
    .use(messageRoutes(messaging))
    .get('/ws/online-users', async () => ({ online_users: await presence.onlineUserIds() }), {
      response: t.Object({ online_users: t.Array(t.Integer()) }),
      detail: { summary: 'Users with at least one live connection', tags: ['realtime'] },
    })
    .use(gateway.routes)
    .get('/health', () => ({ status: 'ok' }), { detail: { summary: 'Liveness', tags: ['operations'] } })
    .get(
      '/ready',
      async ({ status }) => {
        try {
          await store.ping()
          if (!broker.isHealthy()) return status(503, { status: 'unavailable' })
          return { status: 'ready' }
        } catch {
          return status(503, { status: 'unavailable' })
        }
      },
      { detail: { summary: 'Readiness: the database answers (and Redis, in cluster mode)', tags: ['operations'] } },
    )
    .get('/', () => Bun.file(join(PUBLIC_DIR, 'index.html')), { detail: { hide: true } })
    .get('/public/*', ({ params, status }) => {
      const path = join(PUBLIC_DIR, params['*'])
      if (!path.startsWith(PUBLIC_DIR)) return status(404, errorBody('not_found', 'no such file'))
      return Bun.file(path)
    }, { detail: { hide: true } })

  return {
    app,
    directory,
    connections,
    delivery,
    messaging,
    writer,
    presence,
    /** Starts receiving other instances' publications. */
    async start() {
      await broker.start(delivery.onRemote, (message) => {
        if (message.kind !== 'membership') return
        directory.setMember(message.groupId, message.userId, message.isMember)
        gateway.applyMembership(message.groupId, message.userId, message.isMember)
      })
    },
    /** Stops taking connections, stores what is queued, closes sockets with 1001. */
    async stop() {
      // Stop listening now; the promise would wait for the open sockets we are about to close.
      void app.server?.stop(false)
      // Store and acknowledge what is queued, then close; anything sent in between is stored by
      // the second drain, and its sender resends it with the same client_id (stored once).
      await writer.drain()
      for (const userId of connections.onlineUserIds()) for (const ws of [...connections.socketsOf(userId)]) ws.close(1001, 'server shutting down')
      await writer.drain()
      await app.server?.stop(true)
      await broker.close()
    },
  }
}

export type SwitchboardApp = ReturnType<typeof createApp>

function validationSummary(error: unknown): string {
  const e = error as { all?: { path?: string; message?: string; summary?: string }[]; message?: string }
  const first = e.all?.[0]
  if (first) return `${first.path ? first.path.replace(/^\//, '') + ': ' : ''}${first.summary ?? first.message ?? 'invalid'}`
  return 'the request is invalid'
}
