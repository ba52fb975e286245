import { SwitchboardError } from './options'
import type { ActionFrame, LifecycleEvent } from './types'

interface PendingAction {
  frame: ActionFrame & { ref: string }
  /** Sent on some connection: its event may be in a later catch-up, so one there settles it. */
  attempted: boolean
  /** While in flight on the current connection: the number of the ping sent after it; 0 otherwise. */
  fence: number
  resolve: (event: LifecycleEvent | null) => void
  reject: (error: SwitchboardError) => void
}

/** Whether `event` is the change `frame` asked for (made by this user, or by another of their devices). */
function answers(frame: ActionFrame, event: LifecycleEvent, userId: number): boolean {
  if (frame.message_id !== event.message_id) return false
  switch (frame.type) {
    case 'edit_message':
      return event.type === 'message_edited' && event.message === frame.message
    case 'delete_message':
      return event.type === 'message_deleted'
    case 'add_reaction':
      return event.type === 'reaction_added' && event.user_id === userId && event.emoji === frame.emoji
    case 'remove_reaction':
      return event.type === 'reaction_removed' && event.user_id === userId && event.emoji === frame.emoji
  }
}

/**
 * Edits, deletes and reactions waiting for their outcome. The server answers one with its event
 * (which reaches the acting connection like every member's), a refusal with an `error` carrying
 * the frame's `ref`, and a retry that changes nothing with nothing at all. It handles a
 * connection's frames in order and writes an action's event before its answer to the next frame,
 * so the pong to a ping sent after the action settles it: no event by then means no change.
 */
export class PendingActions {
  private readonly byRef = new Map<string, PendingAction>()

  constructor(private readonly userId: number) {}

  get size(): number {
    return this.byRef.size
  }

  add(frame: ActionFrame & { ref: string }, resolve: PendingAction['resolve'], reject: PendingAction['reject']): void {
    this.byRef.set(frame.ref, { frame, attempted: false, fence: 0, resolve, reject })
  }

  /** The actions to send now (not in flight on this connection), marked as covered by ping `fence`. */
  takeUnsent(fence: number): ActionFrame[] {
    const frames: ActionFrame[] = []
    for (const p of this.byRef.values()) {
      if (p.fence !== 0) continue
      p.fence = fence
      p.attempted = true
      frames.push(p.frame)
    }
    return frames
  }

  /** An event of the stream, new to this client: settles the oldest attempted action it answers. */
  eventArrived(event: LifecycleEvent): void {
    for (const [ref, p] of this.byRef) {
      if (!p.attempted || !answers(p.frame, event, this.userId)) continue
      this.byRef.delete(ref)
      p.resolve(event)
      return
    }
  }

  /** Ping `fence` was answered: what was sent before it and got no event changed nothing. */
  fenceAnswered(fence: number): void {
    for (const [ref, p] of this.byRef) {
      if (p.fence === 0 || p.fence > fence) continue
      this.byRef.delete(ref)
      p.resolve(null)
    }
  }

  /** Whether `ref` names a waiting action. */
  has(ref: string): boolean {
    return this.byRef.has(ref)
  }

  /** Nothing was done (rate_limited, unavailable): the action goes again on the next pump. */
  retry(ref: string): void {
    const p = this.byRef.get(ref)
    if (p) p.fence = 0
  }

  /** The server refused the action. */
  refused(ref: string, error: SwitchboardError): void {
    const p = this.byRef.get(ref)
    if (!p) return
    this.byRef.delete(ref)
    p.reject(error)
  }

  /** The connection went: in-flight actions are sent again after the next catch-up, unless it answers them. */
  connectionLost(): void {
    for (const p of this.byRef.values()) p.fence = 0
  }

  rejectAll(error: SwitchboardError): void {
    for (const [ref, p] of this.byRef) {
      this.byRef.delete(ref)
      p.reject(error)
    }
  }
}
