import type { Target, TypingEvent } from './types'

type Timer = ReturnType<typeof setTimeout>

/** A stable key for a conversation target. */
export function targetKey(target: Target): string {
  return target.group_id !== undefined ? `g:${target.group_id}` : `u:${target.recipient_id}`
}

/**
 * Turns keystrokes into few typing frames: a start on the first keystroke, a repeated start every
 * `refreshMs` while typing goes on (so the other side's expiry does not end it), and a stop after
 * `idleMs` without a keystroke.
 */
export class TypingSender {
  private active = new Map<string, { target: Target; lastStartAt: number; idle: Timer }>()

  constructor(
    private readonly sendFrame: (target: Target, isTyping: boolean) => void,
    private readonly idleMs: number,
    private readonly refreshMs: number,
  ) {}

  /** Call on every keystroke. */
  keystroke(target: Target): void {
    const key = targetKey(target)
    const entry = this.active.get(key)
    const now = Date.now()
    if (!entry) {
      this.sendFrame(target, true)
      this.active.set(key, { target, lastStartAt: now, idle: setTimeout(() => this.stop(target), this.idleMs) })
      return
    }
    clearTimeout(entry.idle)
    entry.idle = setTimeout(() => this.stop(target), this.idleMs)
    if (now - entry.lastStartAt >= this.refreshMs) {
      entry.lastStartAt = now
      this.sendFrame(target, true)
    }
  }

  /** Sends a stop if a start was sent (on send, blur, or idle). */
  stop(target: Target): void {
    const key = targetKey(target)
    const entry = this.active.get(key)
    if (!entry) return
    clearTimeout(entry.idle)
    this.active.delete(key)
    this.sendFrame(target, false)
  }

  /** Forgets everything without sending (the connection is gone; the server cannot relay anyway). */
  reset(): void {
    for (const entry of this.active.values()) clearTimeout(entry.idle)
    this.active.clear()
  }
}

/**
 * Remote typing indicators, ended after `expiryMs` without a refresh: a sender whose stop was lost
 * (closed tab, dropped connection) must not look like it is typing forever.
 */
export class TypingTracker {
  private active = new Map<string, { event: TypingEvent; expiry: Timer }>()

  constructor(
    private readonly emit: (event: TypingEvent) => void,
    private readonly expiryMs: number,
  ) {}

  private static key(e: { sender_id: number; group_id?: number }): string {
    return e.group_id !== undefined ? `g:${e.group_id}:${e.sender_id}` : `u:${e.sender_id}`
  }

  /** A typing frame from the server. */
  received(event: TypingEvent): void {
    const key = TypingTracker.key(event)
    const entry = this.active.get(key)
    if (entry) clearTimeout(entry.expiry)
    if (!event.is_typing) {
      this.active.delete(key)
      this.emit(event)
      return
    }
    this.active.set(key, { event, expiry: setTimeout(() => this.end(key, true), this.expiryMs) })
    this.emit(event)
  }

  /** A message from this sender ends their indicator in that conversation. */
  messageFrom(senderId: number, groupId: number | undefined): void {
    this.end(TypingTracker.key({ sender_id: senderId, group_id: groupId }), false)
  }

  /** Ends every indicator (the connection dropped: stops may have been missed). */
  clear(): void {
    for (const key of [...this.active.keys()]) this.end(key, true)
  }

  private end(key: string, expired: boolean): void {
    const entry = this.active.get(key)
    if (!entry) return
    clearTimeout(entry.expiry)
    this.active.delete(key)
    this.emit({ ...entry.event, is_typing: false, timestamp: new Date().toISOString(), ...(expired ? { expired: true } : {}) })
  }
}
