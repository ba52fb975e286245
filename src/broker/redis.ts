import Redis from 'ioredis'
import { fallbackLogger, type Logger } from '../observability/logger'
import { packr, unpack } from '../protocol/msgpack'
import type { ServerFrame } from '../protocol/frames'
import { presenceTarget, type Target } from '../protocol/topics'
import type { Broker, ConnectedHere, ControlMessage, Presence, Publication } from './broker'
import { RedisPresence } from './redis-presence'

export interface RedisBrokerOptions {
  url: string
  /** Channels and keys start with it: instances with the same prefix form one cluster. */
  prefix: string
  instanceId: string
  presenceTtlMs: number
  /** Where connection faults go; pino at info on stdout without one. */
  logger?: Logger
}

interface Watch {
  target: Target
  sockets: number
  /** Settles when Redis confirmed the SUBSCRIBE. */
  subscribed: Promise<void>
}

/**
 * The cluster broker on Redis pub/sub, over three connections:
 * - PUBLISH goes through Bun's built-in RedisClient (`send('PUBLISH', [channel, bytes])` takes
 *   binary) and costs a fraction of ioredis's CPU per publication (docs/BENCHMARKS.md) — it is
 *   on the path of every event;
 * - subscriptions use ioredis, because Bun's RedisClient (checked on 1.4.5) hands pub/sub payloads
 *   to listeners as strings (bytes that are not UTF-8 arrive as U+FFFD) and, after a Redis restart,
 *   reports itself connected with no subscription left;
 * - presence commands (MULTI, pipelines, a few a second) use a second ioredis connection.
 *
 * One channel per target (`<prefix>:t:u:<id>`, `:g:<id>`, `:presence`). An instance subscribes to
 * a user's or group's channel when its first local socket needs it and unsubscribes when the last
 * one leaves, so a message costs Redis work only on instances that have a recipient. The presence
 * and control channels are subscribed always: every instance keeps a presence cache and hears
 * membership changes. A publication is encoded once and the same bytes go to each target's
 * channel; the channel a copy arrives on says which target it is for, so an instance watching two
 * targets of one publication delivers each once. Copies carry the publisher's id and the publisher
 * drops its own: it delivered locally already.
 */
export class RedisBroker implements Broker {
  /** Presence commands. */
  readonly commands: Redis
  private readonly subscriber: Redis
  private publisher: InstanceType<typeof Bun.RedisClient> | null = null
  private publisherConnecting: Promise<void> | null = null
  private readonly watches = new Map<string, Watch>()
  private readonly presenceChannel: string
  private readonly controlChannel: string
  private onRemote: (publication: Publication) => void = () => {}
  private onControl: (message: ControlMessage) => void = () => {}
  private presence: RedisPresence | null = null
  private closed = false
  /** False from a (re)connect until Redis has answered the re-issued SUBSCRIBEs. */
  private resubscribed = false
  /** Publications not sent because Redis was unreachable (events such as typing; messages are refused before). */
  dropped = 0
  private readonly logger: Logger

  constructor(readonly options: RedisBrokerOptions) {
    this.logger = options.logger ?? fallbackLogger()
    const common = {
      lazyConnect: true,
      connectTimeout: 2000,
      // Reconnect for ever, at most 1 s apart: the instance recovers by itself when Redis returns.
      retryStrategy: (attempt: number) => Math.min(50 * attempt, 1000),
    }
    // No offline queue for commands (nor for the publisher): while Redis is down a write fails at
    // once instead of arriving seconds late, and the instance reports not ready.
    this.commands = new Redis(options.url, { ...common, enableOfflineQueue: false, maxRetriesPerRequest: 0, enableAutoPipelining: true })
    // The subscriber keeps its queue: SUBSCRIBE/UNSUBSCRIBE made while down run, in order, on reconnect.
    this.subscriber = new Redis(options.url, { ...common, autoResubscribe: true, maxRetriesPerRequest: null })
    for (const [name, client] of [['commands', this.commands], ['subscriber', this.subscriber]] as const) {
      let reported = false
      client.on('error', (e: Error) => {
        if (!reported && !this.closed) this.logger.error(`redis ${name}: ${e.message} (retrying)`)
        reported = true
      })
      client.on('ready', () => (reported = false))
    }
    this.presenceChannel = this.channelOf(presenceTarget)
    this.controlChannel = `${options.prefix}:control`
    // ioredis re-issues the SUBSCRIBEs when it becomes ready; a PING queued behind them answers
    // only once they are in force, and only then does this instance report ready again.
    this.subscriber.on('ready', () => {
      this.resubscribed = false
      this.subscriber.ping().then(() => (this.resubscribed = true), () => {})
    })
    this.subscriber.on('messageBuffer', (channel: Buffer, message: Buffer) => this.receive(channel.toString(), message))
  }

  private channelOf(target: Target): string {
    const p = this.options.prefix
    return target.kind === 'presence' ? `${p}:t:presence` : `${p}:t:${target.kind === 'user' ? 'u' : 'g'}:${target.id}`
  }

  /**
   * (Re)connects the publisher until it succeeds or the broker closes: reconnection is ours, not
   * the client's, so it never gives up after a fixed number of tries.
   */
  private connectPublisher(): Promise<void> {
    this.publisherConnecting ??= (async () => {
      for (let attempt = 1; !this.closed; attempt++) {
        const client = new Bun.RedisClient(this.options.url, { autoReconnect: false, enableOfflineQueue: false, connectionTimeout: 2000 })
        try {
          await client.connect()
          client.onclose = () => {
            if (this.publisher === client) this.publisher = null
            if (!this.closed) void this.connectPublisher()
          }
          this.publisher = client
          return
        } catch {
          client.close()
          await Bun.sleep(Math.min(50 * attempt, 1000))
        }
      }
    })().finally(() => (this.publisherConnecting = null))
    return this.publisherConnecting
  }

  async start(onRemote: (publication: Publication) => void, onControl?: (message: ControlMessage) => void): Promise<void> {
    this.onRemote = onRemote
    if (onControl) this.onControl = onControl
    // At start-up Redis must answer (a process manager restarts us); after that, outages are ridden out.
    try {
      await Promise.all([this.commands.connect(), this.subscriber.connect(), this.connectPublisher()])
      await this.subscriber.subscribe(this.presenceChannel, this.controlChannel)
    } catch (e) {
      await this.close({ goodbye: false })
      const url = new URL(this.options.url)
      if (url.password) url.password = '***'
      throw new Error(`Redis at ${url} cannot be reached: ${(e as Error).message}`)
    }
    await this.presence?.start()
  }

  publish({ targets, frame }: Publication): void {
    const publisher = this.publisher
    if (!publisher?.connected) {
      this.dropped += targets.length
      return
    }
    // Between instances only, never to clients: MessagePack of [origin instance, payload].
    const payload = packr.pack([this.options.instanceId, frame])
    for (const target of targets) publisher.send('PUBLISH', [this.channelOf(target), payload as any]).catch(() => this.dropped++)
  }

  publishControl(message: ControlMessage): void {
    const publisher = this.publisher
    if (!publisher?.connected) {
      this.dropped++
      return
    }
    publisher.send('PUBLISH', [this.controlChannel, packr.pack([this.options.instanceId, message]) as any]).catch(() => this.dropped++)
  }

  private receive(channel: string, message: Buffer): void {
    let origin: string
    let payload: unknown
    try {
      ;[origin, payload] = unpack(message) as [string, unknown]
    } catch {
      this.logger.error(`redis: undecodable publication on ${channel}`)
      return
    }
    if (origin === this.options.instanceId) return
    // ioredis calls this from its socket handler: a fault here must not escape into it.
    try {
      if (channel === this.controlChannel) return this.onControl(payload as ControlMessage)
      const target = channel === this.presenceChannel ? presenceTarget : this.watches.get(channel)?.target
      // A copy can arrive just after the last local socket left: nobody here wants it.
      if (target) this.onRemote({ targets: [target], frame: payload as ServerFrame, origin })
    } catch (error) {
      this.logger.error({ err: error }, `redis: handling a publication on ${channel} failed`)
    }
  }

  watch(target: Target): Promise<void> {
    if (target.kind === 'presence') return Promise.resolve()
    const channel = this.channelOf(target)
    const existing = this.watches.get(channel)
    if (existing) {
      existing.sockets++
      return existing.subscribed
    }
    const subscribing = this.subscriber.subscribe(channel).then(
      () => {},
      (e) => this.logger.error(`redis: subscribing ${channel} failed: ${e.message}`),
    )
    // While Redis is down the SUBSCRIBE waits in the queue: do not hold the connection's backlog
    // for it (the instance is not ready then, and the socket catches up from the database).
    const subscribed = this.subscriber.status === 'ready' ? subscribing : Promise.resolve()
    this.watches.set(channel, { target, sockets: 1, subscribed })
    return subscribed
  }

  unwatch(target: Target): void {
    if (target.kind === 'presence') return
    const channel = this.channelOf(target)
    const watch = this.watches.get(channel)
    if (!watch || --watch.sockets > 0) return
    this.watches.delete(channel)
    this.subscriber.unsubscribe(channel).catch(() => {})
  }

  /** Channels this instance is subscribed to for its sockets (presence and control not counted). */
  get watchedChannels(): number {
    return this.watches.size
  }

  isHealthy(): boolean {
    return !this.closed && this.resubscribed && this.publisher?.connected === true && this.commands.status === 'ready' && this.subscriber.status === 'ready'
  }

  createPresence(local: ConnectedHere): Presence {
    this.presence = new RedisPresence(this.commands, this.options, local)
    return this.presence
  }

  /** Leaves the cluster. `goodbye: false` leaves like a crashed instance: its presence expires with the TTL. */
  async close(options: { goodbye?: boolean } = {}): Promise<void> {
    if (this.closed) return
    await this.presence?.stop(options)
    this.closed = true
    this.publisher?.close()
    this.publisher = null
    this.subscriber.disconnect()
    if (options.goodbye === false) this.commands.disconnect()
    else await this.commands.quit().catch(() => this.commands.disconnect())
  }
}
