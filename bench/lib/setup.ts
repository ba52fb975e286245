import type { ServerProcess } from './server-process'

let userCounter = 0

async function post(server: ServerProcess, path: string, body: unknown): Promise<any> {
  const res = await fetch(server.httpUrl + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  if (!res.ok) throw new Error(`POST ${path} -> ${res.status} ${await res.text()}`)
  return res.json()
}

/** Creates `count` users over REST (`concurrency` requests at a time); returns their ids in order. */
export async function createUsers(server: ServerProcess, count: number, concurrency = 32): Promise<number[]> {
  const ids: number[] = new Array(count)
  let next = 0
  const prefix = `bench${process.pid}x${++userCounter}`
  async function worker() {
    while (next < count) {
      const i = next++
      ids[i] = (await post(server, '/users', { username: `${prefix}_${i}` })).id
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker))
  return ids
}

/** Creates a group with these members over REST; returns its id. */
export async function createGroup(server: ServerProcess, memberIds: number[]): Promise<number> {
  return (await post(server, '/groups', { name: `bench group of ${memberIds.length}`, member_ids: memberIds, created_by: memberIds[0] })).id
}
