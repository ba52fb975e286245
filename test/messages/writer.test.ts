import { describe, expect, test } from 'bun:test'
import { directConv, type InsertResult, type NewMessage, type Store } from '../../src/db/store'
import { GATHER_AFTER_ROWS, MessageWriter } from '../../src/messages/writer'

/** A store that records each batch it is asked to commit. */
function recordingStore() {
  const batches: string[][] = []
  let nextId = 0
  const store = {
    async insertMessages(batch: NewMessage[]): Promise<InsertResult[]> {
      batches.push(batch.map((m) => m.body))
      return batch.map((m) => ({ message: { ...m, id: ++nextId, readAt: null }, duplicate: false }))
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
