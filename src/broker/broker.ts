import type { ServerFrame } from '../realtime/protocol'
import type { Target } from '../realtime/topics'

/** An event for some targets, as it travels between instances. */
export interface Publication {
  targets: Target[]
  frame: ServerFrame
}

/**
 * The seam between this instance and the others. A broker only moves publications: it never
 * touches sockets, and hands what other instances publish to the one local delivery handler.
 */
export interface Broker {
  /** Sends a publication to the other instances (never back to this one). */
  publish(publication: Publication): void
  /** Starts receiving; `onRemote` is the local delivery path. */
  start(onRemote: (publication: Publication) => void): Promise<void>
  close(): Promise<void>
}

/** A single instance: there is nobody else to tell. */
export class LocalBroker implements Broker {
  publish(): void {}
  async start(): Promise<void> {}
  async close(): Promise<void> {}
}
