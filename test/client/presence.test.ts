import { expect, test } from 'bun:test'
import { OnlineUsers } from '../../src/client/presence'

const frame = (user_id: number, online: boolean) => ({ type: 'presence' as const, user_id, online, timestamp: new Date().toISOString() })

test('presence frames that arrive while the online list is fetched are applied on top of the snapshot', async () => {
  const online = new OnlineUsers()
  let answer!: (ids: number[]) => void
  const refreshed = online.refresh(() => new Promise((resolve) => (answer = resolve)))
  // Carol comes online and alice goes offline after the server took its snapshot.
  online.apply(frame(3, true))
  online.apply(frame(1, false))
  answer([1, 2])
  expect(await refreshed).toBe(true)
  expect(online.list).toEqual([2, 3])
  // Frames after the refresh are applied as they come, not kept for a replay.
  online.apply(frame(1, true))
  expect(online.list).toEqual([1, 2, 3])
})

test('a failed fetch keeps what the presence frames said', async () => {
  const online = new OnlineUsers()
  online.apply(frame(4, true))
  const refreshed = online.refresh(async () => {
    online.apply(frame(5, true))
    throw new Error('HTTP 503')
  })
  expect(await refreshed).toBe(false)
  expect(online.list).toEqual([4, 5])
})
