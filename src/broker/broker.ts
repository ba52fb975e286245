import type { Format, ServerFrame } from '../protocol/frames'
import type { Target } from '../protocol/topics'

/** An event for some targets, as it travels between instances. */
export interface Publication {
  targets: Target[]
  frame: ServerFrame
  /** The publishing instance, on publications that came from another one. */
  origin?: string
}

/** A `presence` frame: a user came online or went offline. */
export type PresenceFrame = Extract<ServerFrame, { type: 'presence' }>

/** What instances tell each other besides events for sockets. */
export type ControlMessage =
  | { kind: 'membership'; groupId: number; userId: number; isMember: boolean }
  /** An operator asked another instance to close this user's connections (the admin API). */
  | { kind: 'disconnect'; userId: number }

/**
 * This instance's connections, as far as presence reads them. The hub's LocalConnections is one:
 * the broker is handed it and never imports the hub.
 */
export interface ConnectedHere {
  isOnline(userId: number): boolean
  /** Sorted ascending. */
  onlineUserIds(): number[]
  /** Every live connection here (its format, for the per-instance counts). */
  all(): Iterable<{ readonly data: { readonly format: Format } }>
}

/** One instance's connections, as its last presence heartbeat wrote them. */
export interface InstanceStats {
  instanceId: string
  connections: number
  users: number
  /** Connections per format (json, msgpack). */
  byFormat: Record<string, number>
  /** Epoch ms of that heartbeat. */
  at: number
}

/**
 * The seam between this instance and the others. A broker only moves publications: it never
 * touches sockets, and hands what other instances publish to the one local delivery handler.
 */
export interface Broker {
  /** Sends a publication to the other instances (never back to this one). */
  publish(publication: Publication): void
  /** Starts receiving; `onRemote` is the local delivery path, `onControl` gets control messages. */
  start(onRemote: (publication: Publication) => void, onControl?: (message: ControlMessage) => void): Promise<void>
  /** Sends a control message to the other instances. */
  publishControl(message: ControlMessage): void
  /**
   * A local socket needs this target's events (counted: one call per socket). Resolves when other
   * instances' publications for it will reach this one, so a backlog query made after it misses nothing.
   */
  watch(target: Target): Promise<void>
  /** The socket that watched `target` no longer needs it. */
  unwatch(target: Target): void
  /** False while the other instances cannot be reached: new messages are then refused. */
  isHealthy(): boolean
  /** Who is online, as far as this broker's instances know; `local` is this instance's sockets. */
  createPresence(local: ConnectedHere): Presence
  close(options?: { goodbye?: boolean }): Promise<void>
}

/** Who is online: the message status decision and GET /ws/online-users ask it. */
export interface Presence {
  /** Synchronous: it sits on the hot path of every send. */
  isOnline(userId: number): boolean
  onlineUserIds(): Promise<number[]>
  /**
   * Sees every presence frame, from this instance (`origin` undefined) or another; false when the
   * user's state did not change for the cluster as a whole, so the frame is not shown here.
   */
  observe(frame: PresenceFrame, origin?: string): boolean
  /**
   * Shows a change this instance noticed by itself (an instance that died took its users with it)
   * to its own presence subscribers; set by createApp.
   */
  announce: ((frame: PresenceFrame) => void) | null
  start(): Promise<void>
  stop(options?: { goodbye?: boolean }): Promise<void>
  /** Cluster mode: every live instance's connection counts, this one's included (for the admin view). */
  instanceStats?(): Promise<InstanceStats[]>
}

/** One instance: presence is this instance's sockets. */
export class LocalPresence implements Presence {
  announce: ((frame: PresenceFrame) => void) | null = null
  constructor(private readonly local: ConnectedHere) {}
  isOnline(userId: number): boolean {
    return this.local.isOnline(userId)
  }
  async onlineUserIds(): Promise<number[]> {
    return this.local.onlineUserIds()
  }
  observe(): boolean {
    return true
  }
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
}

/** A single instance: there is nobody else to tell. */
export class LocalBroker implements Broker {
  publish(_publication: Publication): void {}
  async start(_onRemote: (publication: Publication) => void, _onControl?: (message: ControlMessage) => void): Promise<void> {}
  publishControl(_message: ControlMessage): void {}
  async watch(_target: Target): Promise<void> {}
  unwatch(_target: Target): void {}
  isHealthy(): boolean {
    return true
  }
  createPresence(local: ConnectedHere): Presence {
    return new LocalPresence(local)
  }
  async close(_options?: { goodbye?: boolean }): Promise<void> {}
}
