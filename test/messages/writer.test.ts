import { Database } from 'bun:sqlite'
import { describe, expect, test } from 'bun:test'
import { directConv, storedMessage, type InsertResult, type NewMessage, type Store } from '../../src/db/store'
import { GATHER_AFTER_ROWS, MessageWriter } from '../../src/messages/writer'
import { startServer } from '../helpers/server'
import { TestClient } from '../helpers/ws-client'

/** A store that records each batch it is asked to commit. */
function recordingStore() {
  const batches: string[][] = []
  let nextId = 0
  const store = {
    async insertMessages(batch: NewMessage[]): Promise<InsertResult[]> {
      batches.push(batch.map((m) => m.body))
      return batch.map((m) => ({ message: storedMessage(m, ++nextId), duplicate: false }))
    },
  } as unknown as Store
  return { store, batches }
}

const message = (body: string): NewMessage => ({
  conv: directConv(1, 2), senderId: 1, recipientId: 2, groupId: null, body, messageType: 'text', clientId: null, status: 'sent', createdAt: Date.now(),
})

function submit(writer: MessageWriter, body: string): Promise<number> {
  return new Promise((resolve, reject) => writer.submit(message(body), (error, result) => (error ? reject(error) : resolve(result!.message.id))))
}

describe('MessageWriter (group commit)', () => {
  test('messages submitted in one turn share one commit; each hears back with its id, in order', async () => {
    const { store, batches } = recordingStore()
    const writer = new MessageWriter(store)
    const ids = await Promise.all(['a', 'b', 'c'].map((body) => submit(writer, body)))
    expect(batches).toEqual([['a', 'b', 'c']])
    expect(ids).toEqual([1, 2, 3])
  })

  test('after a small batch the next commit goes at once; after a large one it waits for the interval', async () => {
    const { store, batches } = recordingStore()
    // An interval long enough that "waited for it" cannot be confused with scheduling noise.
    const writer = new MessageWriter(store, undefined, undefined, 10_000)
    await submit(writer, 'small')
    const quick = submit(writer, 'right after a small batch')
    expect(await Promise.race([quick.then(() => 'committed'), Bun.sleep(200).then(() => 'waiting')])).toBe('committed')

    await Promise.all(Array.from({ length: GATHER_AFTER_ROWS }, (_, i) => submit(writer, `load ${i}`)))
    const gathered = submit(writer, 'after a large batch')
    expect(await Promise.race([gathered.then(() => 'committed'), Bun.sleep(200).then(() => 'waiting')])).toBe('waiting')
    await writer.drain()
    expect(await gathered).toBe(batches.flat().length)
  })
})

/**
 * The store, with each commit starting `ms` later and the batch sizes recorded: SQLite commits
 * within the call, so without the wait a confirmation sent just before the commit would still
 * reach the socket after it; with it, such a confirmation arrives while the row is missing.
 */
function slowCommits(store: Store, ms: number, batchSizes: number[]): Store {
  return new Proxy(store, {
    get(target, key) {
      if (key === 'insertMessages')
        return async (batch: NewMessage[]) => {
          batchSizes.push(batch.length)
          await Bun.sleep(ms)
          return target.insertMessages(batch)
        }
      const value = Reflect.get(target, key)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}

describe('message_sent over a real server', () => {
  test('when message_sent arrives, another connection to the SQLite file already sees the row: one message, and a batch', async () => {
    const batchSizes: number[] = []
    await using server = await startServer({ wrapStore: (store) => slowCommits(store, 50, batchSizes) })
    using reader = new Database(server.dbPath, { readonly: true })
    const bodyOf = reader.query<{ body: string }, [number]>('select body from messages where id = ?')
    const alice = await TestClient.connect(server.wsUrl, '/ws/1')
    for (const bodies of [['one'], Array.from({ length: 20 }, (_, i) => `batch ${i}`)]) {
      // Waiting before sending: each lookup runs as its confirmation arrives.
      const seen = Promise.all(bodies.map(() => alice.next('message_sent').then((f) => bodyOf.get(f.message_id)?.body ?? null)))
      for (const body of bodies) alice.send({ type: 'message', recipient_id: 2, message: body })
      expect(await seen).toEqual(bodies)
    }
    // Some of the 20 sent at once shared a commit: the batch path was taken.
    expect(Math.max(...batchSizes)).toBeGreaterThan(1)
    alice.close()
  })
})
