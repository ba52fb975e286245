import type { InsertResult, NewMessage, Store } from '../db/store'
import { fallbackLogger, type Logger } from '../observability/logger'

type Done = (error: unknown, result?: InsertResult) => void

/** One submitter's failure must not keep the rest of its batch from hearing back. */
function settle(logger: Logger, done: Done, error: unknown, result?: InsertResult): void {
  try {
    done(error, result)
  } catch (e) {
    logger.error({ err: e }, 'message callback failed')
  }
}

/**
 * Under load, a commit starts at least this long after the previous one began (a remaining wait
 * under 1 ms, below timer resolution, is not waited). A commit has a fixed cost (the pages it
 * writes into the WAL, the system calls) whatever its size, so a row committed alone costs several
 * times one committed among ten (docs/BENCHMARKS.md); waiting gathers more rows into one.
 */
export const MIN_COMMIT_INTERVAL_MS = 2

/**
 * "Under load": the previous batch held at least this many messages. After a smaller one the next
 * commit goes at once: the store keeps up, and the wait would only add latency. In the group
 * benchmark (a few thousand messages a second, each sender waiting for its own) that wait was
 * what bounded throughput (docs/BENCHMARKS.md, second pass: commit pacing).
 */
export const GATHER_AFTER_ROWS = 16

/**
 * Group commit: every message submitted while a batch waits (one event-loop turn, or under load
 * the rest of MIN_COMMIT_INTERVAL_MS since the last commit began) is stored in one transaction, and each
 * submitter hears back only after that transaction has committed. Batches run one at a time, in
 * submission order, so ids follow the order messages arrived.
 */
export class MessageWriter {
  private queue: NewMessage[] = []
  private callbacks: Done[] = []
  private scheduled = false
  private inFlight: Promise<void> | null = null
  private lastCommitAt = -Infinity
  private lastBatchSize = 0

  constructor(
    private readonly store: Store,
    private readonly onBatch?: (size: number, ms: number) => void,
    /** Wraps the post-commit callbacks of one batch, e.g. to write each socket's frames at once. */
    private readonly aroundCallbacks: (run: () => void) => void = (run) => run(),
    private readonly minCommitIntervalMs = MIN_COMMIT_INTERVAL_MS,
    private readonly logger: Logger = fallbackLogger(),
  ) {}

  /** Queues a message for the next commit. */
  submit(message: NewMessage, done: Done): void {
    this.queue.push(message)
    this.callbacks.push(done)
    if (!this.scheduled && !this.inFlight) this.schedule()
  }

  private schedule(): void {
    this.scheduled = true
    const wait = this.lastBatchSize < GATHER_AFTER_ROWS ? 0 : this.lastCommitAt + this.minCommitIntervalMs - performance.now()
    if (wait >= 1) setTimeout(this.flush, wait)
    else setImmediate(this.flush)
  }

  /**
   * Resolves once everything submitted so far is committed (or failed). Batches still run one per
   * turn of the event loop, as on their own: Bun writes what one batch's callbacks published before
   * the next batch's frames (`Delivery.batched` publishes a lone confirmation and sends several).
   */
  async drain(): Promise<void> {
    while (this.inFlight || this.queue.length) {
      if (this.inFlight) await this.inFlight
      await new Promise((resolve) => setImmediate(resolve))
      if (!this.inFlight && this.queue.length) void this.flush()
    }
  }

  private readonly flush = (): Promise<void> => {
    this.scheduled = false
    if (this.inFlight || !this.queue.length) return this.inFlight ?? Promise.resolve()
    const batch = this.queue
    const callbacks = this.callbacks
    this.queue = []
    this.callbacks = []
    const started = performance.now()
    this.lastCommitAt = started
    this.lastBatchSize = batch.length
    this.inFlight = this.store.insertMessages(batch).then(
      (results) => {
        this.onBatch?.(batch.length, performance.now() - started)
        this.aroundCallbacks(() => {
          for (let i = 0; i < callbacks.length; i++) settle(this.logger, callbacks[i], null, results[i])
        })
      },
      (error) => {
        this.aroundCallbacks(() => {
          for (const done of callbacks) settle(this.logger, done, error)
        })
      },
    ).finally(() => {
      this.inFlight = null
      if (this.queue.length && !this.scheduled) this.schedule()
    })
    return this.inFlight
  }
}
