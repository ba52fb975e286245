import { Type } from '@sinclair/typebox'
import { Elysia, t } from 'elysia'
import { openapi } from '@elysiajs/openapi'
import type { Broker } from './broker/broker'
import { registerBrokerMetrics } from './broker/metrics'
import type { Config } from './config'
import type { Store } from './db/store'
import { groupRoutes } from './groups/routes'
import { AppError, badRequest, errorBody } from './http/errors'
import { MAX_BODY_DEPTH, nestsDeeperThan } from './http/json-depth'
import { wellFormedFields } from './http/text'
import { unroutableUrl } from './http/url'
import { Directory } from './messages/directory'
import { messageRoutes } from './messages/routes'
import { pageRoutes } from './page/routes'
import { MessagingService } from './messages/service'
import { MessageWriter } from './messages/writer'
import { LocalConnections } from './realtime/connections'
import { Delivery } from './realtime/delivery'
import { createGateway } from './realtime/gateway'
import { presenceTarget } from './realtime/topics'
import { userRoutes } from './users/routes'
import { accessPolicy } from './auth/policy'
import { createJwtVerifier, type TokenVerifier } from './auth/verifier'
import { createGroupLimits } from './limits/group-limits'
import { restLimits } from './limits/rest-limits'
import { createSocketGuard } from './limits/socket-guard'
import { observability } from './observability/http'
import { createLogger, type Logger } from './observability/logger'
import { createMetrics } from './observability/metrics'
import { CloseCode } from './realtime/close-codes'

export interface AppDeps {
  store: Store
  broker: Broker
  config: Config
  /** Defaults to pino at config.logLevel on stdout. */
  logger?: Logger
  /** Defaults to jose with the configured key (AUTH=jwt). */
  verifier?: TokenVerifier
}

/** Builds the whole server from its dependencies. Reads no environment and listens on nothing. */
export function createApp({ store, broker, config, ...deps }: AppDeps) {
  const logger = deps.logger ?? createLogger(config.logLevel)
  const directory = new Directory(store)
  const connections = new LocalConnections()
  const metrics = createMetrics({ connections: () => connections.size })
  registerBrokerMetrics(metrics.registry, broker)
  let app: Elysia<any, any, any, any, any, any, any>
  const delivery = new Delivery(
    () => app?.server ?? null,
    broker,
    (userId) => connections.countOf(userId),
    (type, sockets) => metrics.framesOut.inc(type, sockets),
  )
  const writer = new MessageWriter(
    store,
    (size, ms) => {
      metrics.batchSize.observe(size)
      metrics.commitSeconds.observe(ms / 1000)
    },
    // Each socket's confirmations of one commit leave in one write.
    (run) => delivery.batched(run),
    config.commitIntervalMs,
    logger,
  )
  // Cluster-wide in cluster mode (Redis), this instance's sockets otherwise.
  const presence = broker.createPresence(connections)
  delivery.presence = presence
  presence.announce = (frame) => delivery.deliverLocal([presenceTarget], frame)
  const messaging = new MessagingService({ store, directory, writer, delivery, presence, maxMessageLength: config.maxMessageLength, logger })
  const verifier = config.auth === 'jwt' ? (deps.verifier ?? createJwtVerifier(config)) : null
  const policy = accessPolicy({ config, verifier, store, directory })
  const guard = createSocketGuard({
    config,
    metrics,
    logger,
    connections,
    delivery,
    principalOf: policy.principalOf,
    sendTyping: (ws, f) => {
      // A held-back typing frame whose route can no longer be checked (the database is down) is dropped.
      const result = messaging.typing(ws.data.userId, f, f.is_typing, ws)
      if (result instanceof Promise) result.catch((error) => logger.warn({ err: error, user: ws.data.userId }, 'typing dropped'))
    },
    committed: () => writer.drain(),
  })
  const gateway = createGateway({
    store,
    directory,
    messaging,
    delivery,
    connections,
    maxMessageLength: config.maxMessageLength,
    logger,
    hooks: guard,
    catchUpPauseBytes: Math.floor(config.slowConsumerBytes / 4),
  })
  /** A membership change, made here or reported by another instance: the cache and live sockets follow. */
  const applyMembership = (groupId: number, userId: number, isMember: boolean) => {
    directory.setMember(groupId, userId, isMember)
    gateway.applyMembership(groupId, userId, isMember)
  }
  /** A membership change made here: this instance now, the other instances through the broker. */
  const onMembership = (groupId: number, userId: number, isMember: boolean) => {
    applyMembership(groupId, userId, isMember)
    broker.publishControl({ kind: 'membership', groupId, userId, isMember })
  }

  app = new Elysia({
    // Unknown fields are refused (422), as on the WebSocket, instead of silently dropped.
    normalize: false,
    serve: {
      // Bun's own cap only stops bodies without Content-Length; declared sizes get a JSON 413 below.
      maxRequestBodySize: config.maxBodyBytes + 1024 * 1024,
      // Elysia turns SO_REUSEPORT on by default, which lets a second process start on a busy port
      // and take half of its connections; off, that second listen fails with EADDRINUSE.
      reusePort: config.reusePort,
      // The last fence, for a response that fails after its handler returned (a file that cannot
      // be read): the JSON body and a pino line, never Bun's error page with the server's paths.
      error(error) {
        logger.error({ err: error }, 'response failed')
        return Response.json(errorBody('internal', 'internal error'), { status: 500 })
      },
    },
    websocket: {
      maxPayloadLength: config.maxFrameBytes,
      idleTimeout: config.idleTimeoutSeconds,
      sendPings: true,
      backpressureLimit: config.backpressureLimitBytes,
      closeOnBackpressureLimit: true,
      perMessageDeflate: false,
    },
  })
    // First of all hooks: a request whose target or Host cannot be served (`Host: x:99999`, an
    // empty Host, an HTTP/1.0 request without one, a host too short for the router, CONNECT's
    // authority form) is answered 400 here, before any hook that reads its URL.
    .onRequest(({ request, status }) => {
      if (request.method === 'CONNECT') return status(405, errorBody('method_not_allowed', 'CONNECT is not supported'))
      const problem = unroutableUrl(request.url)
      if (problem) return status(400, errorBody('bad_request', problem))
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
          // AUTH=jwt: every route but the operational ones and the docs (see docs/OPERATIONS.md).
          components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
          security: [{ bearer: [] }],
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
    // Before validation: a lone surrogate in a body field is stored as U+FFFD, as on the WebSocket.
    .onTransform(({ body }) => void wellFormedFields(body))
    .use(observability({ logger, metrics }))
    // Order matters: who is calling (401/403) is settled before per-user limits (429) look at it.
    .use(policy.plugin)
    .use(restLimits({ config, metrics, principalOf: policy.principalOf, connectionsOf: (id) => connections.countOf(id) }))
    // Before validation, which walks a body recursively and, on a failure, stringifies it for the
    // error message: 100,000 levels cost seconds of CPU and then overflowed the stack.
    .onTransform({ as: 'global' }, ({ body }) => {
      if (nestsDeeperThan(body, MAX_BODY_DEPTH)) throw badRequest('nesting_too_deep', `the JSON body nests deeper than ${MAX_BODY_DEPTH} levels`)
    })
    .onError(({ code, error, status }) => {
      metrics.errors.inc({ code: error instanceof AppError ? error.code : String(code).toLowerCase(), transport: 'rest' })
      if (error instanceof AppError) return status(error.status, errorBody(error.code, error.message))
      switch (code) {
        case 'VALIDATION':
          return status(422, errorBody('validation_failed', validationSummary(error)))
        case 'PARSE':
          return status(400, errorBody('invalid_json', 'the body is not valid JSON'))
        case 'NOT_FOUND':
          return status(404, errorBody('not_found', 'no such route'))
        default:
          logger.error({ err: error }, 'unhandled error')
          return status(500, errorBody('internal', 'internal error'))
      }
    })
    .use(userRoutes({ store, directory, isOnline: (id) => presence.isOnline(id) }))
    .use(groupRoutes({ store, directory, onMembership, limits: createGroupLimits({ config, store }), actorOf: (request) => policy.principalOf(request)?.userId }))
    .use(messageRoutes(messaging))
    .get('/ws/online-users', async () => ({ online_users: await presence.onlineUserIds() }), {
      response: t.Object({ online_users: t.Array(Type.Integer()) }),
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
    .use(pageRoutes({ logger }))

  return {
    app,
    directory,
    connections,
    delivery,
    messaging,
    writer,
    metrics,
    logger,
    presence,
    /** Loads the key material (throws when it is unusable) and starts receiving other instances' publications. */
    async start() {
      await verifier?.init()
      // Messages stored before this process started count as published: catch-up resumes from here.
      delivery.publishedUpTo = Math.max(delivery.publishedUpTo, await store.maxMessageId())
      await broker.start(delivery.onRemote, (message) => {
        if (message.kind !== 'membership') return
        applyMembership(message.groupId, message.userId, message.isMember)
      })
      guard.start()
    },
    /** Stops taking connections, stores what is queued, closes sockets with 1001. */
    async stop() {
      guard.stop()
      // Stop listening now; the promise would wait for the open sockets we are about to close.
      void app.server?.stop(false)
      // Store and acknowledge what is queued, then close; anything sent in between is stored by
      // the second drain, and its sender resends it with the same client_id (stored once).
      await writer.drain()
      for (const ws of [...connections.all()]) ws.close(CloseCode.goingAway, 'server shutting down')
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
