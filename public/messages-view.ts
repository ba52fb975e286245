// The open conversation's message list: one <li> per message, kept in id order, never twice.
import type { Attachment } from '../src/client'

export type TickStatus = 'sending' | 'sent' | 'delivered' | 'read' | 'failed'

export interface ShownMessage {
  id?: number
  client_id?: string | null
  sender_id: number
  message: string
  timestamp: string
  status: TickStatus
  group_id?: number
  /** Group messages over REST: how many members other than the sender have read it. */
  read_count?: number
  /** One's own group messages over REST (groups of at most 100): the members whose read mark covers it. */
  read_by?: number[]
  /** Images and files the message carries. */
  attachments?: Attachment[]
}

/** How bubbles get attachment bytes: through the client, with the token (an <img src> could not send it). */
export interface AttachmentLoader {
  /** An object URL of the image's thumbnail (or of the image, when it has none). */
  preview(a: Attachment): Promise<string>
  /** Downloads the file, under its name. */
  save(a: Attachment): Promise<void>
}

const sizeText = (bytes: number) => (bytes < 1024 ? `${bytes} B` : bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(0)} KB` : `${(bytes / 1024 / 1024).toFixed(1)} MB`)

const RANK: Record<TickStatus, number> = { failed: -1, sending: 0, sent: 1, delivered: 2, read: 3 }
const TICK_TEXT: Record<TickStatus, string> = { sending: '…', sent: '✓', delivered: '✓✓', read: '✓✓', failed: '!' }

const time = (iso: string) => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })

export class MessagesView {
  private byId = new Map<number, HTMLLIElement>()
  private byClientId = new Map<string, HTMLLIElement>()
  /**
   * Group messages: who has read each of mine, from `read_receipt` events (replayed by the stream
   * after a reconnect) unioned with `read_by` from history. A set, so a reader is counted once.
   */
  private readers = new Map<number, Set<number>>()
  /**
   * Group messages whose history gave a `read_count` but no `read_by` (a group over 100 members, or
   * a server without it): that count, which may include readers a receipt names again. The larger
   * of it and the known readers is shown.
   */
  private serverCounts = new Map<number, number>()

  constructor(
    private readonly list: HTMLOListElement,
    private readonly me: number,
    private readonly nameOf: (userId: number) => string,
    private readonly loader?: AttachmentLoader,
  ) {}

  clear(): void {
    this.list.replaceChildren()
    this.byId.clear()
    this.byClientId.clear()
    this.readers.clear()
    this.serverCounts.clear()
  }

  has(id: number): boolean {
    return this.byId.has(id)
  }

  /** Adds a message or updates the one already shown (same id, or same client_id while sending). */
  upsert(m: ShownMessage): HTMLLIElement {
    let li = (m.id !== undefined && this.byId.get(m.id)) || (m.client_id ? this.byClientId.get(m.client_id) : undefined)
    if (!li) {
      li = this.render(m)
      if (m.client_id) this.byClientId.set(m.client_id, li)
    }
    if (m.id !== undefined && li.dataset.id !== String(m.id)) {
      li.dataset.id = String(m.id)
      this.byId.set(m.id, li)
      this.place(li, m.id)
    } else if (m.id === undefined && !li.isConnected) this.list.append(li)
    this.setStatus(li, m.status)
    if (m.id !== undefined && m.group_id !== undefined && m.sender_id === this.me) {
      if (m.read_by) {
        const readers = this.readersOf(m.id)
        for (const reader of m.read_by) readers.add(reader)
        this.serverCounts.delete(m.id)
      } else if (m.read_count !== undefined) this.serverCounts.set(m.id, m.read_count)
      this.showReadCount(m.id, li)
    }
    return li
  }

  /** Whether some shown count is a bare number from the server, which may already include a reader a receipt names again. */
  hasCountsWithoutReaders(): boolean {
    return this.serverCounts.size > 0
  }

  /** Names shown on group messages, again (after a name was learned). */
  refreshNames(): void {
    for (const who of this.list.querySelectorAll<HTMLElement>('.who')) who.textContent = this.nameOf(Number(who.closest<HTMLElement>('li.msg')!.dataset.sender))
  }

  /** Moves a status forward (a late "delivered" never undoes "read"); `userId` is who caused it. */
  updateStatus(id: number, status: TickStatus, userId?: number): void {
    const li = this.byId.get(id)
    if (!li) return
    if (status === 'read' && li.dataset.group !== undefined && userId !== undefined) this.readBy(id, li, userId)
    else this.setStatus(li, status)
  }

  /** A group member read up to `upTo`: every earlier message of mine in that group counts as read by them. */
  groupRead(groupId: number, upTo: number, readerId: number): void {
    for (const [id, li] of this.byId)
      if (id <= upTo && li.dataset.group === String(groupId) && li.dataset.sender === String(this.me)) this.readBy(id, li, readerId)
  }

  private readBy(id: number, li: HTMLLIElement, readerId: number): void {
    this.readersOf(id).add(readerId)
    this.showReadCount(id, li)
  }

  private readersOf(id: number): Set<number> {
    let set = this.readers.get(id)
    if (!set) this.readers.set(id, (set = new Set()))
    return set
  }

  private showReadCount(id: number, li: HTMLLIElement): void {
    const count = Math.max(this.serverCounts.get(id) ?? 0, this.readers.get(id)?.size ?? 0)
    if (count > 0) this.setStatus(li, 'read', `read by ${count}`)
  }

  /** A send that the server refused. */
  failed(clientId: string, reason: string): void {
    const li = this.byClientId.get(clientId)
    if (!li) return
    li.dataset.status = 'failed'
    const tick = li.querySelector<HTMLElement>('.tick')!
    tick.textContent = `${TICK_TEXT.failed} not sent`
    tick.setAttribute('aria-label', `failed: ${reason}`)
    tick.title = `not sent: ${reason}`
  }

  private render(m: ShownMessage): HTMLLIElement {
    const mine = m.sender_id === this.me
    const li = document.createElement('li')
    li.className = `msg ${mine ? 'mine' : 'theirs'}`
    li.dataset.sender = String(m.sender_id)
    if (m.group_id !== undefined) li.dataset.group = String(m.group_id)
    const bubble = document.createElement('div')
    bubble.className = 'bubble'
    if (!mine && m.group_id !== undefined) {
      const who = document.createElement('span')
      who.className = 'who'
      who.textContent = this.nameOf(m.sender_id)
      bubble.append(who)
    }
    const text = document.createElement('p')
    text.className = 'text'
    text.textContent = m.message
    const meta = document.createElement('span')
    meta.className = 'meta'
    const when = document.createElement('time')
    when.dateTime = m.timestamp
    when.textContent = time(m.timestamp)
    meta.append(when)
    if (mine) {
      const tick = document.createElement('span')
      tick.className = 'tick'
      tick.setAttribute('role', 'img')
      meta.append(tick)
    }
    if (m.attachments?.length) bubble.append(this.renderAttachments(m.attachments))
    bubble.append(text, meta)
    li.append(bubble)
    return li
  }

  /** Image previews (a click downloads the original) and file links. */
  private renderAttachments(attachments: Attachment[]): HTMLElement {
    const box = document.createElement('div')
    box.className = 'attachments'
    for (const a of attachments) {
      if (a.width !== undefined && a.content_type.startsWith('image/')) {
        const img = document.createElement('img')
        img.alt = a.name
        img.title = `${a.name} (${sizeText(a.size)})`
        img.width = Math.min(a.width, 320)
        img.style.aspectRatio = `${a.width} / ${a.height}`
        img.dataset.attachment = a.id
        img.addEventListener('click', () => void this.loader?.save(a))
        this.loader?.preview(a).then((url) => (img.src = url), () => (img.alt = `${a.name} (not available)`))
        box.append(img)
      } else {
        const link = document.createElement('a')
        link.className = 'file'
        link.href = '#'
        link.dataset.attachment = a.id
        link.textContent = a.name
        const size = document.createElement('span')
        size.className = 'size'
        size.textContent = sizeText(a.size)
        link.append(size)
        link.addEventListener('click', (event) => {
          event.preventDefault()
          void this.loader?.save(a)
        })
        box.append(link)
      }
    }
    return box
  }

  private setStatus(li: HTMLLIElement, status: TickStatus, label: string = status): void {
    const current = (li.dataset.status as TickStatus | undefined) ?? 'sending'
    if (li.dataset.status !== undefined && RANK[status] < RANK[current]) return
    li.dataset.status = status
    const tick = li.querySelector<HTMLElement>('.tick')
    if (!tick) return
    tick.textContent = TICK_TEXT[status]
    tick.setAttribute('aria-label', label)
    tick.title = label
  }

  /** Keeps id order: before the first shown message with a larger id, else after the last one with an id. */
  private place(li: HTMLLIElement, id: number): void {
    for (const other of this.list.children as HTMLCollectionOf<HTMLLIElement>) {
      if (other === li) continue
      const otherId = other.dataset.id === undefined ? Infinity : Number(other.dataset.id)
      if (otherId > id) {
        this.list.insertBefore(li, other)
        return
      }
    }
    this.list.append(li)
  }
}
