// The open conversation's message list: one <li> per message, kept in id order, never twice.
import type { Attachment } from '../src/client'

import type { ReactionSummary } from '../src/protocol/message'

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
  edited_at?: string
  deleted?: true
  reply_to_id?: number
  mention_ids?: number[]
  /** History's summary (authoritative: replaces what is shown); absent on live frames and sends. */
  reactions?: ReactionSummary[]
  /** Images and files the message carries. */
  attachments?: Attachment[]
}

/** The emoji the page offers as reactions. */
export const REACTION_EMOJI = ['👍', '❤️', '😂', '🎉', '😮'] as const

/** What a bubble's buttons ask the page to do. */
export interface MessageActions {
  react(id: number, emoji: string, add: boolean): void
  reply(id: number): void
  edit(id: number): void
  delete(id: number): void
}

/** A shown message's changing state: its text, and its reactions as this viewer sees them. */
interface Content {
  text: string
  edited: boolean
  deleted: boolean
  reactions: Map<string, { count: number; me: boolean }>
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
  /** Text, edit mark, tombstone and reactions of each shown message with an id. */
  private content = new Map<number, Content>()

  constructor(
    private readonly list: HTMLOListElement,
    private readonly me: number,
    private readonly nameOf: (userId: number) => string,
    private readonly actions: MessageActions,
    private readonly loader?: AttachmentLoader,
  ) {}

  clear(): void {
    this.list.replaceChildren()
    this.byId.clear()
    this.byClientId.clear()
    this.readers.clear()
    this.serverCounts.clear()
    this.content.clear()
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
    if (m.id !== undefined) this.applyContent(m.id, li, m)
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

  /** The text a reply's quote shows of message `id`, when it is shown. */
  textOf(id: number): string | undefined {
    const c = this.content.get(id)
    return c && (c.deleted ? 'message deleted' : c.text)
  }

  /** A `message_edited` event: the new text, marked "edited" (nothing once deleted). */
  edited(id: number, text: string): void {
    const c = this.content.get(id)
    if (!c || c.deleted) return
    c.text = text
    c.edited = true
    this.showContent(id)
  }

  /** A `message_deleted` event: the bubble becomes a tombstone. */
  deleted(id: number): void {
    const c = this.content.get(id)
    if (!c) return
    c.deleted = true
    c.text = ''
    c.reactions.clear()
    this.showContent(id)
  }

  /** A `reaction_added`/`reaction_removed` event by `userId`. */
  reaction(id: number, userId: number, emoji: string, added: boolean): void {
    const c = this.content.get(id)
    if (!c || c.deleted) return
    const r = c.reactions.get(emoji) ?? { count: 0, me: false }
    // One's own reaction is known exactly (history says `me`): a repeat of it changes nothing.
    if (userId === this.me) {
      if (r.me === added) return
      r.me = added
    }
    r.count = Math.max(0, r.count + (added ? 1 : -1))
    if (r.count === 0) c.reactions.delete(emoji)
    else c.reactions.set(emoji, r)
    this.showContent(id)
  }

  /** Whether some shown count is a bare number from the server, which may already include a reader a receipt names again. */
  hasCountsWithoutReaders(): boolean {
    return this.serverCounts.size > 0
  }

  /** Names shown on group messages, again (after a name was learned). */
  refreshNames(): void {
    for (const who of this.list.querySelectorAll<HTMLElement>('.who')) who.textContent = this.nameOf(Number(who.closest<HTMLElement>('li.msg')!.dataset.sender))
    for (const quote of this.list.querySelectorAll<HTMLElement>('.quote')) this.fillQuote(quote, Number(quote.dataset.replyTo))
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

  private applyContent(id: number, li: HTMLLIElement, m: ShownMessage): void {
    let c = this.content.get(id)
    if (!c) this.content.set(id, (c = { text: m.message, edited: false, deleted: false, reactions: new Map() }))
    // A deletion is final; history (with `reactions`) is authoritative for the rest.
    if (m.deleted) c.deleted = true
    if (c.deleted) c.text = ''
    else if (m.edited_at !== undefined || m.reactions) {
      c.text = m.message
      c.edited = m.edited_at !== undefined
    }
    if (m.reactions) c.reactions = new Map(m.reactions.map((r) => [r.emoji, { count: r.count, me: r.me }]))
    if (c.deleted) c.reactions.clear()
    if (m.mention_ids?.includes(this.me) && !c.deleted) li.classList.add('mentions-me')
    this.showContent(id)
  }

  /** Shows a message's text, edit mark, tombstone and reaction chips; and the quotes of replies to it. */
  private showContent(id: number): void {
    const li = this.byId.get(id)
    const c = this.content.get(id)
    if (!li || !c) return
    li.classList.toggle('deleted', c.deleted)
    if (c.deleted) li.classList.remove('mentions-me')
    li.querySelector<HTMLElement>('.text')!.textContent = c.deleted ? 'message deleted' : c.text
    li.querySelector<HTMLElement>('.edited')!.hidden = !c.edited || c.deleted
    const chips = li.querySelector<HTMLElement>('.reactions')!
    chips.replaceChildren(
      ...[...c.reactions].map(([emoji, r]) => {
        const chip = document.createElement('button')
        chip.type = 'button'
        chip.className = 'chip'
        chip.dataset.emoji = emoji
        chip.setAttribute('aria-pressed', String(r.me))
        chip.setAttribute('aria-label', `${emoji} ${r.count}${r.me ? ', yours' : ''}`)
        chip.title = r.me ? 'Remove your reaction' : 'React with this too'
        const e = document.createElement('span')
        e.className = 'emoji'
        e.textContent = emoji
        const n = document.createElement('span')
        n.className = 'count'
        n.textContent = String(r.count)
        chip.append(e, n)
        chip.addEventListener('click', () => this.actions.react(id, emoji, !r.me))
        return chip
      }),
    )
    chips.hidden = c.reactions.size === 0
    for (const quote of this.list.querySelectorAll<HTMLElement>(`.quote[data-reply-to="${id}"]`)) this.fillQuote(quote, id)
  }

  private fillQuote(quote: HTMLElement, parentId: number): void {
    const parent = this.byId.get(parentId)
    const text = this.textOf(parentId)
    const who = parent ? (parent.dataset.sender === String(this.me) ? 'You' : this.nameOf(Number(parent.dataset.sender))) : ''
    const short = text === undefined ? 'an earlier message' : text.length > 60 ? `${text.slice(0, 60)}…` : text
    quote.querySelector('.quote-who')!.textContent = who
    quote.querySelector('.quote-text')!.textContent = short
  }

  /** Scrolls to a shown message and flashes it (a reply's quote was clicked). */
  scrollTo(id: number): void {
    const li = this.byId.get(id)
    if (!li) return
    li.scrollIntoView({ block: 'center', behavior: 'smooth' })
    li.classList.remove('flash')
    void li.offsetWidth // restart the animation
    li.classList.add('flash')
  }

  private toolbar(li: HTMLLIElement, mine: boolean): HTMLElement {
    const bar = document.createElement('div')
    bar.className = 'actions'
    bar.setAttribute('role', 'toolbar')
    bar.setAttribute('aria-label', 'Message actions')
    const id = () => Number(li.dataset.id)
    const button = (text: string, label: string, onClick: () => void, cls = '') => {
      const b = document.createElement('button')
      b.type = 'button'
      b.className = `act ${cls}`.trim()
      b.textContent = text
      b.setAttribute('aria-label', label)
      b.title = label
      b.addEventListener('click', () => li.dataset.id && onClick())
      return b
    }
    for (const emoji of REACTION_EMOJI)
      bar.append(button(emoji, `React ${emoji}`, () => this.actions.react(id(), emoji, !this.content.get(id())?.reactions.get(emoji)?.me), 'emoji'))
    bar.append(button('↩', 'Reply', () => this.actions.reply(id())))
    if (mine) bar.append(button('✎', 'Edit', () => this.actions.edit(id())), button('🗑', 'Delete', () => this.actions.delete(id())))
    return bar
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
    if (m.reply_to_id !== undefined) {
      const parentId = m.reply_to_id
      const quote = document.createElement('button')
      quote.type = 'button'
      quote.className = 'quote'
      quote.dataset.replyTo = String(parentId)
      quote.title = 'Show the message this replies to'
      const who = document.createElement('span')
      who.className = 'quote-who'
      const said = document.createElement('span')
      said.className = 'quote-text'
      quote.append(who, said)
      this.fillQuote(quote, parentId)
      quote.addEventListener('click', () => this.scrollTo(parentId))
      bubble.append(quote)
    }
    const text = document.createElement('p')
    text.className = 'text'
    text.textContent = m.message
    const meta = document.createElement('span')
    meta.className = 'meta'
    const when = document.createElement('time')
    when.dateTime = m.timestamp
    when.textContent = time(m.timestamp)
    const edited = document.createElement('span')
    edited.className = 'edited'
    edited.textContent = 'edited'
    edited.hidden = true
    meta.append(edited, when)
    if (mine) {
      const tick = document.createElement('span')
      tick.className = 'tick'
      tick.setAttribute('role', 'img')
      meta.append(tick)
    }
    if (m.attachments?.length) bubble.append(this.renderAttachments(m.attachments))
    const reactions = document.createElement('div')
    reactions.className = 'reactions'
    reactions.setAttribute('aria-label', 'Reactions')
    reactions.hidden = true
    bubble.append(text, reactions, meta)
    li.append(bubble, this.toolbar(li, mine))
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
