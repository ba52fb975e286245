import type { Format } from './frames'

/** Who an event is for. Each target is one Bun topic per format. */
export type Target = { kind: 'user'; id: number } | { kind: 'group'; id: number } | { kind: 'presence' }

export const FORMATS: readonly Format[] = ['json', 'msgpack']

export const userTarget = (id: number): Target => ({ kind: 'user', id })
export const groupTarget = (id: number): Target => ({ kind: 'group', id })
export const presenceTarget: Target = { kind: 'presence' }

/** The Bun topic of a target for connections of one format. */
export function topicOf(target: Target, format: Format): string {
  const suffix = format === 'json' ? 'j' : 'm'
  switch (target.kind) {
    case 'user':
      return `u:${target.id}:${suffix}`
    case 'group':
      return `g:${target.id}:${suffix}`
    case 'presence':
      return `presence:${suffix}`
  }
}

/** The topic of one connection's replies (see `Delivery.batched`); never a target's. */
export const replyTopic = (connection: number): string => `r:${connection}`

/**
 * Where a frame came from, opaque to the messaging rules: the transport passes it back to the
 * publisher, which skips it (the sending connection gets its own answer instead).
 */
export type Origin = { readonly __origin: unique symbol }
