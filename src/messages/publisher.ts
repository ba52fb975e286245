import type { StreamEvent } from '../db/store'
import type { ServerFrame } from '../protocol/frames'
import type { Origin, Target } from '../protocol/topics'

/** What the messaging rules publish through (the realtime hub implements it). */
export interface Publisher {
  /** Fans a frame out to its targets, here and on the other instances, skipping `origin`. */
  publish(targets: Target[], frame: ServerFrame, origin?: Origin): void
  /** Publishes events the store appended, each to whom it is for. */
  publishEvents(events: StreamEvent[]): void
  /** False while other instances cannot be told: a message must not be accepted then. */
  canPublish(): boolean
}
