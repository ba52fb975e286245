import type { Database, Statement } from 'bun:sqlite'
import { getTableName } from 'drizzle-orm'
import { conversationMessages, messages } from './schema'

/**
 * Stored messages that may wait before conversation_messages lists them all in one pass.
 *
 * Why not an index on messages (conv, id): each commit rewrote one index page per conversation it
 * held, into the WAL and then the database file, about 2 µs of CPU a 1:1 message in the benchmark
 * (docs/BENCHMARKS.md: 1.49 against 1.23 × the relay's CPU without it, same run). Sorted and added
 * every few thousand messages, a busy conversation's page is written once a pass, not once a commit.
 * `bun bench/micro/indexes.ts 100` compares the two; 4,096 keeps a pass, which holds the writer,
 * to a few ms.
 */
export const INDEX_EVERY_ROWS = 4096

const { conv, id } = conversationMessages
const table = `"${getTableName(conversationMessages)}"`

/** What `stored` changes, saved before a transaction that may roll back. */
type Mark = { upTo: number; waiting: number; newest: number }

/**
 * Keeps conversation_messages complete for readers and cheap for the writer. The messages it lists
 * are always every id up to `upTo`: the writer adds the ones above in one sorted pass, inside a
 * batch's transaction once INDEX_EVERY_ROWS have gathered, and a reader that needs the table
 * (history, catch-up, the conversation list) has the rest added first. After a crash, start-up
 * finds `upTo` again by walking back from the newest message to the first one listed.
 */
export class ConversationIndex {
  private upTo = 0
  /** Stored messages above upTo, and the newest of them. */
  private waiting = 0
  private newest = 0
  private readonly addAbove: Statement<unknown, [number]>

  constructor(
    private readonly client: Database,
    private readonly everyRows = INDEX_EVERY_ROWS,
  ) {
    this.addAbove = client.prepare(
      `insert or ignore into ${table} ("${conv.name}", "${id.name}") select "${messages.conv.name}", "${messages.id.name}" ` +
        `from "${getTableName(messages)}" where "${messages.id.name}" > ? order by 1, 2`,
    )
    this.recover()
  }

  /** In a batch's transaction, after its inserts: `rows` more messages, the newest `newestId`. */
  stored(rows: number, newestId: number): void {
    this.waiting += rows
    this.newest = newestId
    if (this.waiting >= this.everyRows) this.addWaiting()
  }

  /** Before a read of conversation_messages: lists what is waiting, in a transaction of its own. */
  catchUp(): void {
    if (this.waiting) this.client.transaction(() => this.addWaiting())()
  }

  /** The state to return to if the transaction around `stored` rolls back. */
  mark(): Mark {
    return { upTo: this.upTo, waiting: this.waiting, newest: this.newest }
  }

  reset(mark: Mark): void {
    ;({ upTo: this.upTo, waiting: this.waiting, newest: this.newest } = mark)
  }

  private addWaiting(): void {
    this.addAbove.run(this.upTo)
    this.upTo = this.newest
    this.waiting = 0
  }

  private recover(): void {
    const newestFirst = this.client.query<{ id: number; conv: string }, []>(
      `select "${messages.id.name}" as id, "${messages.conv.name}" as conv from "${getTableName(messages)}" order by 1 desc`,
    )
    const listed = this.client.query<unknown, [string, number]>(`select 1 from ${table} where "${conv.name}" = ? and "${id.name}" = ?`)
    for (const row of newestFirst.iterate()) {
      if (listed.get(row.conv, row.id)) {
        this.upTo = row.id
        break
      }
      if (!this.waiting) this.newest = row.id
      this.waiting++
    }
    newestFirst.finalize()
    listed.finalize()
    this.catchUp()
  }
}
