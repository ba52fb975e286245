import type { Server } from 'bun'
import type { Broker, Publication } from '../broker/broker'
import { encodeFrame, type Encoded } from './codec'
import type { Socket } from './connection'
import type { ServerFrame } from './protocol'
import { FORMATS, topicOf, type Target } from './topics'

/**
 * The one delivery path. Every event — from a WebSocket frame, a REST call or another instance —
 * ends in `deliverLocal`, which encodes it at most once per format and publishes it to Bun topics.
 */
export class Delivery {
  /** The highest message id handed to topics by this instance; catch-up uses it to close gaps. */
  publishedUpTo = 0

  constructor(
    private readonly getServer: () => Server<unknown> | null,
    private readonly broker: Broker,
    /** Counts frames handed to sockets, by type (metrics); `sockets` counts the topic's subscribers. */
    private readonly onSent?: (type: ServerFrame['type'], sockets: number) => void,
  ) {}

  /** Publishes to local topics and to the other instances. `origin` (the sending socket) is skipped. */
  publish(targets: Target[], frame: ServerFrame, origin?: Socket): void {
    this.deliverLocal(targets, frame, origin)
    this.broker.publish({ targets, frame })
  }

  /** The local half: what other instances' publications come through too. */
  deliverLocal(targets: Target[], frame: ServerFrame, origin?: Socket): void {
    const server = this.getServer()
    if (!server) return
    // Publishing through the sending socket excludes that socket, so a sender's other devices get
    // the copy and the sending one only gets its `message_sent`.
    const via = origin && origin.readyState === 1 ? origin : server
    let json: Encoded | undefined
    let msgpack: Encoded | undefined
    for (const target of targets) {
      for (const format of FORMATS) {
        const topic = topicOf(target, format)
        const subscribers = server.subscriberCount(topic)
        if (subscribers === 0) continue
        if (this.onSent) this.onSent(frame.type, via === origin && origin.isSubscribed(topic) ? subscribers - 1 : subscribers)
        const payload = format === 'json' ? (json ??= encodeFrame(frame, 'json')) : (msgpack ??= encodeFrame(frame, 'msgpack'))
        via.publish(topic, payload)
      }
    }
  }

  /** Handler for publications from other instances. */
  readonly onRemote = (publication: Publication): void => this.deliverLocal(publication.targets, publication.frame)

  /** Sends one frame to one socket in its format. */
  sendTo(ws: Socket, frame: ServerFrame): void {
    if (ws.readyState !== 1) return
    ws.send(encodeFrame(frame, ws.data.format))
    this.onSent?.(frame.type, 1)
  }

  /** How many sockets on this instance subscribe to a target, in all formats. */
  localSubscribers(target: Target): number {
    const server = this.getServer()
    if (!server) return 0
    let n = 0
    for (const format of FORMATS) n += server.subscriberCount(topicOf(target, format))
    return n
  }
}
