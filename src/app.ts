import { Type } from '@sinclair/typebox'
import { Elysia, t } from 'elysia'
import { createAdmin } from './admin'
import { openAttachmentStorage } from './attachments'
import { attachmentRoutes, UPLOAD_ROUTE } from './attachments/routes'
import { AttachmentService } from './attachments/service'
import type { BlobStore } from './attachments/storage'
import type { Broker } from './broker/broker'
import { registerBrokerMetrics } from './broker/metrics'
import type { Config } from './config'
import type { Store } from './db/store'
import { docsRoutes } from './docs/routes'
import { groupRoutes } from './groups/routes'
import { AppError, badRequest, errorBody } from './http/errors'
import { bodyRefusal, jsonBodies } from './http/json-body'
import { MAX_BODY_DEPTH, nestsDeeperThan } from './http/json-depth'
import { wellFormedFields } from './protocol/well-formed'
import { validationMessage } from './http/validation'
import { requestPath, unroutableUrl } from './http/url'
import { allowedMethods } from './http/methods'
import { Directory } from './messages/directory'
import { messageRoutes } from './messages/routes'
import { MessageSearch } from './messages/search'
import { searchRoutes } from './messages/search-routes'
import { pageRoutes } from './page/routes'
import { createPush } from './push'
import { MessageLifecycle } from './messages/lifecycle'
import { MessagingService } from './messages/service'
import { MessageWriter } from './messages/writer'
import { LocalConnections } from './realtime/connections'
import { Delivery } from './realtime/delivery'
import { createGateway } from './realtime/gateway'
import { eventRetention } from './realtime/retention'
import { originOf, type Socket } from './realtime/connection'
import { userRoutes } from './users/routes'
import { accessPolicy } from './auth/policy'
import { createJwtVerifier, type TokenVerifier } from './auth/verifier'
import { createGroupLimits } from './limits/group-limits'
import { RecentRefusals } from './limits/refusals'
import { restLimits } from './limits/rest-limits'
import { createSocketGuard } from './limits/socket-guard'
import { observability } from './observability/http'
import { createLogger, type Logger } from './observability/logger'
import { createMetrics } from './observability/metrics'
import { CloseCode } from './protocol/close-codes'
import { createWebhooks } from './webhooks'

export interface AppDeps {
  store: Store
  broker: Broker
  config: Config
  /** Defaults to pino at config.logLevel on stdout. */
  logger?: Logger
  /** Defaults to jose with the configured key (AUTH=jwt). */
  verifier?: TokenVerifier
  /** Where attachment bytes go; defaults to what config.attachmentsUrl names. */
  attachmentStorage?: BlobStore
}

/** Builds the whole server from its dependencies. Reads no environment and listens on nothing. */
export function createApp({ store, broker, config, ...deps }: AppDeps) {
  const logger = deps.logger ?? createLogger(config.logLevel)
  const directory = new Directory(store)
  const connections = new LocalConnections()
  const metrics = createMetrics({ connections: () => connections.size })
  registerBrokerMetrics(metrics.registry, broker)
  const webhooks = createWebhooks({ config, store, logger, registry: metrics.registry })
  let app: Elysia<any, any, any, any, any, any, any>
  // Cluster-wide in cluster mode (Redis), this instance's sockets otherwise.
  const presence = broker.createPresence(connections)
  const delivery = new Delivery({
    getServer: () => app?.server ?? null,
    broker,
    store,
    connections,
    presence,
    logger,
    onSent: (type, sockets) => metrics.framesOut.inc(type, sockets),
  })
  const writer = new MessageWriter(
    store,
    (size, ms) => {
      metrics.batchSize.observe(size)
      metrics.commitSeconds.observe(ms / 1000)
      webhooks.committed()
    },
    // Each socket's confirmations of one commit leave in one write.
    (run) => delivery.batched(run),
    config.commitIntervalMs,
    logger,
  )
  const push = createPush({ config, store, logger, registry: metrics.registry, userExists: (id) => directory.userExists(id), membersOf: (id) => directory.membersOf(id) })
  const attachments = new AttachmentService({
    store,
    directory,
    blobs: deps.attachmentStorage ?? openAttachmentStorage(config),
    logger,
    settings: {
      maxBytes: config.maxAttachmentBytes,
      allowedTypes: config.attachmentTypes,
      unsentTtlMs: config.attachmentUnsentTtlSeconds * 1000,
      quotaBytes: config.attachmentQuotaBytes,
      uploadRate: config.rateLimit ? { perSecond: config.uploadsPerSecond, burst: config.uploadsBurst } : null,
      stallMs: config.bodyTimeoutMs,
    },
  })
  const messaging = new MessagingService({ store, directory, writer, delivery, maxMessageLength: config.maxMessageLength, logger, attachments, onCommitted: push.committed })

  const lifecycle = new MessageLifecycle({
    store,
    directory,
    delivery,
    maxMessageLength: config.maxMessageLength,
    // A deleted message's files go with it, unless another message still carries them.
    deleted: (messageId) => attachments.messagesDeleted([messageId]),
  })
  const verifier = config.auth === 'jwt' ? (deps.verifier ?? createJwtVerifier(config)) : null
  const policy = accessPolicy({ config, verifier, store, directory })
  const refusals = new RecentRefusals()
  const guard = createSocketGuard({
    config,
    metrics,
    logger,
    connections,
    delivery,
    principalOf: policy.principalOf,
    sendTyping: (ws, f) => {
      // A held-back typing frame whose route can no longer be checked (the database is down) is dropped.
      const result = messaging.typing(ws.data.userId, f, f.is_typing, originOf(ws))
      if (result instanceof Promise) result.catch((error) => logger.warn({ err: error, user: ws.data.userId }, 'typing dropped'))
    },
    committed: () => writer.drain(),
    refusals,
  })
  const gateway = createGateway({
    store,
    directory,
    messaging,
    lifecycle,
    delivery,
    connections,
    maxMessageLength: config.maxMessageLength,
    logger,
    hooks: guard,
    catchUpPauseBytes: Math.floor(config.slowConsumerBytes / 4),
    onPresence: webhooks.presence,
  })
  const admin = createAdmin({
    config,
    logger,
    sources: {
      sockets: () => connections.all(),
      socketsOf: (userId) => connections.socketsOf(userId),
      metrics,
      refusals,
      userExists: async (userId) => (await store.getUser(userId)) !== undefined,
      instanceStats: presence.instanceStats?.bind(presence),
      tellOthersToDisconnect: config.redisUrl ? (userId) => broker.publishControl({ kind: 'disconnect', userId }) : undefined,
    },
  })
  /** A membership change, made here or reported by another instance: the cache and live sockets follow. */
  const applyMembership = (groupId: number, userId: number, isMember: boolean) => {
    directory.setMember(groupId, userId, isMember)
    gateway.applyMembership(groupId, userId, isMember)
  }
  /**
   * A membership change made here: this instance now, the other instances through the broker, and
   * the members' streams (after the sockets follow, so that a removed member hears of it only once).
   */
  const onMembership = async (groupId: number, userIds: number[], isMember: boolean) => {
    for (const userId of userIds) {
      applyMembership(groupId, userId, isMember)
      broker.publishControl({ kind: 'membership', groupId, userId, isMember })
    }
    await messaging.membershipChanged(groupId, userIds, isMember)
  }

  const retention = eventRetention({ store, days: config.eventRetentionDays, logger })

  // Built on the first 405, when every route is registered.
  let methodsOf: ((path: string) => string[]) | null = null
  const allowedOn = (path: string) => (methodsOf ??= allowedMethods(app.routes))(path)

  app = new Elysia({
    // Unknown fields are refused (422), as on the WebSocket, instead of silently dropped.
    normalize: false,
    serve: {
      // Bun's own cap answers with an empty 413 before any hook runs; jsonBodies enforces
      // MAX_BODY_BYTES instead, with the JSON body, and Bun never buffers a body nobody reads.
      maxRequestBodySize: Number.MAX_SAFE_INTEGER,
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
    .use(docsRoutes({ app: () => app, logger }))
    .use(jsonBodies({ maxBytes: config.maxBodyBytes, timeoutMs: config.bodyTimeoutMs, streamed: UPLOAD_ROUTE }))
    // Before validation: a lone surrogate in a body field is stored as U+FFFD, as on the WebSocket.
    .onTransform(({ body }) => void wellFormedFields(body))
    .use(observability({ logger, metrics }))
    // Order matters: who is calling (401/403) is settled before per-user limits (429) look at it.
    .use(policy.plugin)
    .use(restLimits({ config, metrics, principalOf: policy.principalOf, connectionsOf: (id) => connections.countOf(id), refusals }))
    // Before validation, which walks a body recursively and, on a failure, stringifies it for the
    // error message: 100,000 levels cost seconds of CPU and then overflowed the stack.
    .onTransform({ as: 'global' }, ({ body }) => {
      if (nestsDeeperThan(body, MAX_BODY_DEPTH)) throw badRequest('nesting_too_deep', `the JSON body nests deeper than ${MAX_BODY_DEPTH} levels`)
    })
    .onError(({ code, error, status, request, set }) => {
      const refusal = error instanceof AppError ? error : code === 'PARSE' ? bodyRefusal(error) : null
      metrics.errors.inc({ code: refusal ? refusal.code : String(code).toLowerCase(), transport: 'rest' })
      if (refusal) return status(refusal.status, errorBody(refusal.code, refusal.message))
      switch (code) {
        case 'VALIDATION':
          return status(422, errorBody('validation_failed', validationMessage(error.type, error.valueError)))
        case 'PARSE':
          return status(400, errorBody('invalid_json', 'the body is not valid JSON'))
        case 'NOT_FOUND': {
          // A path that exists answers a wrong method with 405 and the methods it takes.
          const allowed = allowedOn(requestPath(request.url))
          if (allowed.length === 0) return status(404, errorBody('not_found', 'no such route'))
          set.headers.allow = allowed.join(', ')
          return status(405, errorBody('method_not_allowed', `${request.method} is not allowed here; use ${allowed.join(', ')}`))
        }
        default:
          logger.error({ err: error }, 'unhandled error')
          return status(500, errorBody('internal', 'internal error'))
      }
    })
    .use(userRoutes({ store, directory, isOnline: (id) => presence.isOnline(id) }))
    .use(groupRoutes({ store, directory, onMembership, limits: createGroupLimits({ config, store }), actorOf: (request) => policy.principalOf(request)?.userId }))
    .use(messageRoutes(messaging, lifecycle))
    .use(searchRoutes(new MessageSearch({ store, directory })))
    .use(attachmentRoutes(attachments))
    .use(push.routes)
    .get('/ws/online-users', async () => ({ online_users: await presence.onlineUserIds() }), {
      response: t.Object(
        { online_users: t.Array(Type.Integer()) },
        { description: 'Ids of the users with a live connection (across the cluster in cluster mode)', examples: [{ online_users: [1, 3] }] },
      ),
      detail: { summary: 'Users with at least one live connection', tags: ['realtime'] },
    })
    .use(gateway.routes)
    .get('/health', () => ({ status: 'ok' as const }), {
      response: t.Object({ status: t.Literal('ok') }, { description: 'The process is serving', examples: [{ status: 'ok' }] }),
      detail: { summary: 'Liveness', description: 'Answers while the process serves, whatever the database does.', tags: ['operations'] },
    })
    .get(
      '/ready',
      async ({ status }) => {
        try {
          await store.ping()
          if (!broker.isHealthy()) return status(503, { status: 'unavailable' as const })
          return { status: 'ready' as const }
        } catch {
          return status(503, { status: 'unavailable' as const })
        }
      },
      {
        response: {
          200: t.Object({ status: t.Literal('ready') }, { description: 'The database answers, and Redis in cluster mode', examples: [{ status: 'ready' }] }),
          503: t.Object({ status: t.Literal('unavailable') }, { description: 'The database or Redis does not answer: take the instance out of rotation', examples: [{ status: 'unavailable' }] }),
        },
        detail: { summary: 'Readiness: the database answers (and Redis, in cluster mode)', tags: ['operations'] },
      },
    )
    .use(pageRoutes({ logger }))
    .use(webhooks.routes)
    .use(admin.routes)

  return {
    app,
    directory,
    connections,
    delivery,
    messaging,
    attachments,
    writer,
    metrics,
    logger,
    presence,
    webhooks,
    push: push.notifier,
    /** Loads the key material (throws when it is unusable) and starts receiving other instances' publications. */
    async start() {
      await verifier?.init()
      // Events stored before this process started count as published: catch-up resumes from here.
      delivery.advance(await store.lastSeq())
      await broker.start(delivery.onRemote, (message) => {
        if (message.kind === 'membership') applyMembership(message.groupId, message.userId, message.isMember)
        else if (message.kind === 'disconnect') admin.service.disconnectedElsewhere(message.userId)
      })
      guard.start()
      admin.service.start()
      delivery.confirmations.start()
      retention.start()
      attachments.start()
      await webhooks.start()
      push.notifier?.start()
    },
    /**
     * Listens. Bun hands each pong's payload to the WebSocket handler; Elysia's own forwards the pong
     * without it, and delivery confirmation needs it (see confirmations.ts): ours goes in its place.
     */
    listen(options: { port: number; hostname: string; tls?: unknown }) {
      app.listen({ ...options, websocket: { pong: (ws: Socket, data: Buffer) => ws.data.pong(ws, data) } } as Parameters<typeof app.listen>[0])
      return app
    },
    /** Stops taking connections, stores what is queued, closes sockets with 1001. */
    async stop() {
      guard.stop()
      admin.service.stop()
      retention.stop()
      attachments.stop()
      webhooks.stop()
      await push.notifier?.stop()
      // Stop listening now; the promise would wait for the open sockets we are about to close.
      void app.server?.stop(false)
      // Store and acknowledge what is queued, then close; anything sent in between is stored by
      // the second drain, and its sender resends it with the same client_id (stored once).
      await writer.drain()
      for (const ws of [...connections.all()]) ws.close(CloseCode.goingAway, 'server shutting down')
      await writer.drain()
      delivery.confirmations.stop()
      // What devices confirmed before they were closed is recorded; the rest stays `sent`.
      await delivery.confirmations.flush()
      await app.server?.stop(true)
      await broker.close()
    },
  }
}

export type SwitchboardApp = ReturnType<typeof createApp>
