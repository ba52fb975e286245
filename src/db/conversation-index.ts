import type { Database, Statement } from 'bun:sqlite'
import { getTableName, sql, type SQL } from 'drizzle-orm'
import { conversationRuns, messages } from './schema'

/**
 * Stored messages that may wait before conversation_runs lists them, in one pass.
 *
 * Why not an index on messages (conv, id): each commit rewrote one index page per conversation it
 * held, into the WAL and then the database file: the largest single cost left on the 1:1 path
 * (docs/BENCHMARKS.md, third pass). Why runs, not a row a message: a pass then writes one B-tree
 * entry per conversation it saw instead of one per message (`bun bench/micro/indexes.ts 100`
 * compares them).
 * 4,096 keeps a pass, which holds the writer, short.
 */
export const INDEX_EVERY_ROWS = 4096
/** Ids in one run at most: a page of history decodes one or two runs, not a pass's worth. */
export const RUN_MAX_IDS = 256

const { conv, firstId, lastId, ids } = conversationRuns
/** A column's name, quoted for SQL. */
const q = (column: { name: string }) => `"${column.name}"`
const runs = `"${getTableName(conversationRuns)}"`
const messagesTable = `"${getTableName(messages)}"`

/**
 * Counts the messages of conversation `conversation` above `after` (placeholders or values) that
 * `where` accepts (a condition on `messages`), without bringing their ids into JavaScript: each id
 * of the runs joined to its row. Call catchUp first.
 */
export function countAbove(conversation: unknown, after: unknown, where: SQL): SQL<number> {
  const c = (column: { name: string }) => sql.raw(q(column))
  const t = sql.raw(runs)
  const from = sql`coalesce((select max(${c(firstId)}) from ${t} where ${c(conv)} = ${conversation} and ${c(firstId)} <= ${after}), 0)`
  return sql<number>`(select count(*) from ${t} as runs, json_each(runs.${c(ids)}) as listed
    join ${sql.raw(messagesTable)} on ${sql.raw(`${messagesTable}.${q(messages.id)}`)} = listed.value
    where runs.${c(conv)} = ${conversation} and runs.${c(firstId)} >= ${from} and listed.value > ${after} and ${where})`
}

/** What `stored` changes, saved before a transaction that may roll back. */
type Mark = { convs: string[]; ids: number[]; length: number }
type Run = { firstId: number; ids: string }

/** Ids of one conversation in (after, before): after ≥ 0, before at most Number.MAX_SAFE_INTEGER. */
export interface IdRange {
  after: number
  before: number
}

/**
 * Keeps conversation_runs complete for readers and cheap for the writer. Every message stored and
 * not yet listed is held here (its conversation and id); the writer lists them in one pass, inside
 * a batch's transaction, once INDEX_EVERY_ROWS have gathered, as a run per conversation; a reader
 * that needs the table has them listed first. Passes list messages in id order, so the listed ones
 * are every id up to some point: after a crash, start-up walks back from the newest message to the
 * first one listed and holds the ones above it again.
 */
export class ConversationIndex {
  // Two flat arrays, not a map of arrays: a stored message costs two pushes, and a rollback cuts
  // them back to a length.
  private convs: string[] = []
  private ids: number[] = []
  private readonly addRun: Statement<unknown, [string, number, number, string]>
  private readonly runsBelow: Statement<Run, [string, number, number]>
  private readonly runsFrom: Statement<Run, [string, number, number]>
  private readonly runStart: Statement<{ firstId: number }, [string, number]>
  private readonly lastRunAt: Statement<{ lastId: number }, [string, number]>

  constructor(
    private readonly client: Database,
    private readonly everyRows = INDEX_EVERY_ROWS,
  ) {
    this.addRun = client.prepare(`insert into ${runs} (${q(conv)}, ${q(firstId)}, ${q(lastId)}, ${q(ids)}) values (?, ?, ?, ?)`)
    const select = `select ${q(firstId)} as firstId, ${q(ids)} as ids from ${runs} where ${q(conv)} = ?`
    this.runsBelow = client.prepare(`${select} and ${q(firstId)} < ? order by ${q(firstId)} desc limit ?`)
    this.runsFrom = client.prepare(`${select} and ${q(firstId)} >= ? order by ${q(firstId)} limit ?`)
    this.runStart = client.prepare(`select coalesce(max(${q(firstId)}), 0) as firstId from ${runs} where ${q(conv)} = ? and ${q(firstId)} <= ?`)
    this.lastRunAt = client.prepare(`select ${q(lastId)} as lastId from ${runs} where ${q(conv)} = ? and ${q(firstId)} <= ? order by ${q(firstId)} desc limit 1`)
    this.recover()
  }

  /** In a batch's transaction, for each message it inserts. */
  stored(conv: string, id: number): void {
    this.convs.push(conv)
    this.ids.push(id)
  }

  /** In a batch's transaction, after its inserts: lists what waits once enough has gathered. */
  storedBatch(): void {
    if (this.ids.length >= this.everyRows) this.addWaiting()
  }

  /** Before a read of conversation_runs: lists what is waiting, in a transaction of its own. */
  catchUp(): void {
    if (!this.ids.length) return
    const mark = this.mark()
    try {
      this.client.transaction(() => this.addWaiting())()
    } catch (error) {
      this.reset(mark)
      throw error
    }
  }

  /** The state to return to if the transaction around `stored` rolls back. */
  mark(): Mark {
    return { convs: this.convs, ids: this.ids, length: this.ids.length }
  }

  reset(mark: Mark): void {
    // A pass in the transaction replaced the arrays and left the marked ones whole.
    this.convs = mark.convs
    this.ids = mark.ids
    this.convs.length = this.ids.length = mark.length
  }

  /** Up to `limit` ids of `conv` in the range, newest first. Call catchUp first. */
  newestFirst(conv: string, range: IdRange, limit: number): number[] {
    const found: number[] = []
    let below = range.before
    // A few runs at a time, more as they turn out short: a busy conversation's page is in one or
    // two, a quiet one's spread over many.
    for (let fetch = 2; found.length < limit; fetch = Math.min(fetch * 2, 64)) {
      const rows = this.runsBelow.all(conv, below, fetch)
      for (const row of rows) {
        const list: number[] = JSON.parse(row.ids)
        for (let i = list.length - 1; i >= 0 && found.length < limit; i--) {
          if (list[i] <= range.after) return found
          if (list[i] < range.before) found.push(list[i])
        }
        below = row.firstId
      }
      if (rows.length < fetch) break
    }
    return found
  }

  /** Up to `limit` ids of `conv` in the range, oldest first. Call catchUp first. */
  oldestFirst(conv: string, range: IdRange, limit: number): number[] {
    const found: number[] = []
    let from = this.runStart.get(conv, range.after)!.firstId
    for (let fetch = 2; found.length < limit; fetch = Math.min(fetch * 2, 64)) {
      const rows = this.runsFrom.all(conv, from, fetch)
      for (const row of rows) {
        const list: number[] = JSON.parse(row.ids)
        for (let i = 0; i < list.length && found.length < limit; i++) {
          if (list[i] >= range.before) return found
          if (list[i] > range.after) found.push(list[i])
        }
        from = row.firstId + 1
      }
      if (rows.length < fetch) break
    }
    return found
  }

  private addWaiting(): void {
    const byConv = new Map<string, number[]>()
    for (let i = 0; i < this.ids.length; i++) {
      const list = byConv.get(this.convs[i])
      if (list) list.push(this.ids[i])
      else byConv.set(this.convs[i], [this.ids[i]])
    }
    for (const [conv, list] of byConv)
      for (let i = 0; i < list.length; i += RUN_MAX_IDS) {
        const run = list.slice(i, i + RUN_MAX_IDS)
        this.addRun.run(conv, run[0], run[run.length - 1], JSON.stringify(run))
      }
    this.convs = []
    this.ids = []
  }

  private recover(): void {
    const newestFirst = this.client.query<{ id: number; conv: string }, []>(
      `select ${q(messages.id)} as id, ${q(messages.conv)} as conv from ${messagesTable} order by 1 desc`,
    )
    const waiting: { id: number; conv: string }[] = []
    for (const row of newestFirst.iterate()) {
      const run = this.lastRunAt.get(row.conv, row.id)
      if (run && run.lastId >= row.id) break
      waiting.push(row)
    }
    newestFirst.finalize()
    for (let i = waiting.length - 1; i >= 0; i--) this.stored(waiting[i].conv, waiting[i].id)
    this.catchUp()
  }
}
