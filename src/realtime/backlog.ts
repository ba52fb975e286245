import { CONVERSATIONS_PER_TURN, groupConv, nextTurn, type Store, type StoredMessage, type StreamEvent } from '../db/store'

/** What a backlog holds: messages, and (resuming after a seq) the other events of the stream. */
export type BacklogItem = StoredMessage | StreamEvent

/** An item's place in the stream. */
export function seqOf(item: BacklogItem): number {
  return 'frame' in item ? item.seq : item.id
}

/** One ascending run of a user's messages, read in pages: a conversation, or what waits for them. */
interface Source {
  /** Up to `limit` rows after `after`, below the backlog's bound, ascending. */
  read(after: number, limit: number): Promise<BacklogItem[]>
}

/** A source being merged: its read-ahead rows and where to read on. */
interface Cursor {
  source: Source
  rows: BacklogItem[]
  at: number
  /** The id the next read starts after. */
  after: number
  /** Rows asked for next time: small at first (most conversations have little to send), growing. */
  pageSize: number
  exhausted: boolean
}

const FIRST_PAGE = 4
const LARGEST_PAGE = 256

/**
 * What a connection is owed, in seq order, read lazily from many sources at once: one cursor per
 * conversation (or one for what waits for the user) and a heap on their next ids. Opening it reads
 * a few rows of each source; after that the work is proportional to the rows taken, whatever the
 * number of conversations. Only messages below `before` are read: a message that commits while the
 * backlog is read is left to the caller's next backlog, so none is skipped by a later one.
 */
export class Backlog {
  private readonly heap: Cursor[] = []
  private reads = 0

  private constructor(
    private readonly sources: Source[],
    private readonly after: number,
  ) {}

  /**
   * Every event of the user's stream after `after` (a resume point): the messages of their
   * conversations, their own included, and the statuses, receipts and membership changes for them.
   */
  static async since(store: Store, userId: number, groupIds: number[], after: number, before: number): Promise<Backlog> {
    const convs = (await store.directConversations(userId)).concat(groupIds.map(groupConv))
    const sources = convs.map((conv): Source => ({ read: (from, limit) => store.history(conv, { after: from, before, limit }) }))
    sources.push({ read: (from, limit) => store.eventsFor(userId, groupIds, from, before, limit) })
    return new Backlog(sources, after).open()
  }

  /**
   * What was stored while the user was away: direct messages to them still `sent`, and their
   * groups' messages from others past their delivered mark in each group.
   */
  static async undelivered(store: Store, userId: number, after: number, before: number): Promise<Backlog> {
    const sources: Source[] = [{ read: (from, limit) => store.undeliveredDirect(userId, from, before, limit) }]
    for (const [groupId, mark] of await store.deliveredMarks(userId)) {
      const conv = groupConv(groupId)
      sources.push({ read: (from, limit) => othersMessages(store, conv, userId, Math.max(from, mark), before, limit) })
    }
    return new Backlog(sources, after).open()
  }

  private async open(): Promise<this> {
    for (const source of this.sources) {
      const cursor: Cursor = { source, rows: [], at: 0, after: this.after, pageSize: FIRST_PAGE, exhausted: false }
      await this.refill(cursor)
      if (cursor.at < cursor.rows.length) this.push(cursor)
    }
    return this
  }

  /** The next `n` items in seq order (fewer at the end). */
  async take(n: number): Promise<BacklogItem[]> {
    const out: BacklogItem[] = []
    while (out.length < n && this.heap.length) {
      const cursor = this.heap[0]
      out.push(cursor.rows[cursor.at++])
      if (cursor.at === cursor.rows.length) await this.refill(cursor)
      if (cursor.at < cursor.rows.length) this.siftDown(0)
      else this.pop()
    }
    return out
  }

  private async refill(cursor: Cursor): Promise<void> {
    if (cursor.exhausted) return
    // A synchronous store answers at once: every few reads, let the rest of the server run.
    if (++this.reads % CONVERSATIONS_PER_TURN === 0) await nextTurn()
    const rows = await cursor.source.read(cursor.after, cursor.pageSize)
    cursor.exhausted = rows.length < cursor.pageSize
    cursor.rows = rows
    cursor.at = 0
    if (rows.length) cursor.after = seqOf(rows[rows.length - 1])
    cursor.pageSize = Math.min(cursor.pageSize * 4, LARGEST_PAGE)
  }

  private head(c: Cursor): number {
    return seqOf(c.rows[c.at])
  }

  private push(cursor: Cursor): void {
    const heap = this.heap
    heap.push(cursor)
    let i = heap.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (this.head(heap[parent]) <= this.head(heap[i])) break
      ;[heap[parent], heap[i]] = [heap[i], heap[parent]]
      i = parent
    }
  }

  private pop(): void {
    const last = this.heap.pop()!
    if (this.heap.length) {
      this.heap[0] = last
      this.siftDown(0)
    }
  }

  private siftDown(i: number): void {
    const heap = this.heap
    for (;;) {
      const left = 2 * i + 1
      const right = left + 1
      let least = i
      if (left < heap.length && this.head(heap[left]) < this.head(heap[least])) least = left
      if (right < heap.length && this.head(heap[right]) < this.head(heap[least])) least = right
      if (least === i) return
      ;[heap[least], heap[i]] = [heap[i], heap[least]]
      i = least
    }
  }
}

/** Up to `limit` messages of `conv` in (after, before) that `userId` did not send, ascending. */
async function othersMessages(store: Store, conv: string, userId: number, after: number, before: number, limit: number): Promise<StoredMessage[]> {
  const found: StoredMessage[] = []
  for (let pages = 1; ; pages++) {
    const page = await store.history(conv, { after, before, limit })
    for (const m of page) if (m.senderId !== userId && found.length < limit) found.push(m)
    if (found.length === limit || page.length < limit) return found
    after = page[page.length - 1].id
    // A long run of the user's own messages must not hold the event loop either.
    if (pages % CONVERSATIONS_PER_TURN === 0) await nextTurn()
  }
}
