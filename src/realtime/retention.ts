import type { Store } from '../db/store'
import type { Logger } from '../observability/logger'

/** How often events older than the retention are pruned. */
const PRUNE_EVERY_MS = 60 * 60 * 1000

/**
 * Prunes the stream's status, receipt and membership events older than `days` (never messages),
 * at start and hourly. A device resuming from before what is left is told `resync_required`.
 */
export function eventRetention({ store, days, logger }: { store: Store; days: number; logger: Logger }) {
  let timer: ReturnType<typeof setInterval> | null = null
  const prune = async () => {
    try {
      const pruned = await store.pruneEvents(Date.now() - days * 86_400_000)
      if (pruned) logger.info({ pruned, retention_days: days }, 'pruned stream events')
    } catch (error) {
      logger.error({ err: error }, 'pruning stream events failed')
    }
  }
  return {
    start() {
      if (days <= 0 || timer) return
      void prune()
      timer = setInterval(prune, PRUNE_EVERY_MS)
      timer.unref?.()
    },
    stop() {
      if (timer) clearInterval(timer)
      timer = null
    },
  }
}
