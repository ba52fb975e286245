import type { Config } from '../config'
import type { Store, StoredMessage } from '../db/store'
import type { Logger } from '../observability/logger'
import type { Registry } from 'prom-client'
import { registerPushMetrics } from './metrics'
import { PushNotifier } from './notifier'
import { pushRoutes } from './routes'
import { webPushSender, type PushSend } from './sender'

export interface PushDeps {
  config: Config
  store: Store
  logger: Logger
  userExists(id: number): boolean | Promise<boolean>
  membersOf(groupId: number): Set<number> | undefined | Promise<Set<number> | undefined>
  /** Replaces web-push's sender (tests). */
  send?: PushSend
  /** The app's metrics registry. */
  registry?: Registry
}

/**
 * Web Push: its routes, and — when VAPID keys are configured — the notifier the messaging rules
 * tell of every committed message. Without keys `committed` is null: the send path pays nothing.
 */
export function createPush(deps: PushDeps) {
  const { config } = deps
  const enabled = config.vapidPublicKey !== null && config.vapidPrivateKey !== null
  let notifier: PushNotifier | null = null
  const metrics = enabled && deps.registry ? registerPushMetrics(deps.registry, () => notifier?.waiting ?? 0) : null
  notifier = enabled
    ? new PushNotifier({
        store: deps.store,
        membersOf: deps.membersOf,
        send: deps.send ?? webPushSender({ subject: config.vapidSubject, publicKey: config.vapidPublicKey!, privateKey: config.vapidPrivateKey! }),
        logger: deps.logger,
        graceMs: config.pushGraceMs,
        preview: config.pushPreview,
        ttlSeconds: config.pushTtlSeconds,
        retryBaseMs: config.pushRetryBaseMs,
        onAttempt: metrics?.attempt,
      })
    : null
  return {
    notifier,
    committed: notifier ? (m: StoredMessage) => notifier.committed(m) : null,
    routes: pushRoutes({ publicKey: enabled ? config.vapidPublicKey : null, store: deps.store.push, userExists: deps.userExists, allowHttp: config.pushAllowHttp }),
  }
}
