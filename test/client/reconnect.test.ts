import { describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { SendResult, StateChange } from '../../src/client'
import { api, startServer } from '../helpers/server'
import { TcpProxy } from '../helpers/network-faults'
import { connectClient, waitFor } from './helpers'

const ids = (list: { id: number }[]) => list.map((m) => m.id)

/** The stored direct conversation between 1 and 2, as REST returns it. */
async function storedConversation(server: { url: string }) {
  const res = await api(server, 'GET', '/messages?user_id=1&other_user_id=2&limit=200')
  expect(res.status).toBe(200)
  expect(res.body.has_more).toBe(false)
  return res.body.messages as { id: number; sender_id: number; client_id: string | null }[]
}

describe('client reconnects without losing or repeating messages', () => {
  test('connection cut three times mid-conversation: every message once, in order, both ways', async () => {
    await using server = await startServer()
    using proxy = TcpProxy.start(server.port)
    using alice = await connectClient(proxy.url, 1)
    using bob = await connectClient(server.url, 2)
    const states: StateChange[] = []
    alice.on('state', (s) => states.push(s))

    const fromBob: number[] = []
    const fromAlice: Promise<SendResult>[] = []
    for (let i = 0; i < 120; i++) {
      fromBob.push((await bob.send({ recipient_id: 1 }, `bob ${i}`)).message_id)
      if (i % 2 === 0) fromAlice.push(alice.send({ recipient_id: 2 }, `alice ${i / 2}`))
      if (i === 30 || i === 70 || i === 100) {
        await waitFor('alice connected before the cut', () => alice.state === 'open')
        proxy.cut()
      }
      await Bun.sleep(2)
    }
    const aliceSent = await Promise.all(fromAlice)
    await waitFor('alice has all of bob’s messages', () => alice.received.length >= fromBob.length)
    await waitFor('bob has all of alice’s messages', () => bob.received.length >= aliceSent.length)
    await Bun.sleep(100) // a late duplicate would show up here

    expect(states.filter((s) => s.state === 'reconnecting').length).toBe(3)
    expect(ids(alice.received)).toEqual(fromBob)
    expect(alice.received.map((m) => m.message)).toEqual(fromBob.map((_, i) => `bob ${i}`))
    expect(ids(bob.received)).toEqual(aliceSent.map((s) => s.message_id))
    expect(bob.received.map((m) => m.message)).toEqual(aliceSent.map((_, i) => `alice ${i}`))

    const stored = await storedConversation(server)
    expect(stored.filter((m) => m.sender_id === 1).length).toBe(60)
    expect(new Set(stored.filter((m) => m.sender_id === 1).map((m) => m.client_id)).size).toBe(60)
    expect(stored.filter((m) => m.sender_id === 2).length).toBe(120)
  })

  test('server restarted on the same database: queued sends stored once, missed messages delivered once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchboard-restart-'))
    try {
      let server = await startServer({ dir })
      const port = server.port
      using alice = await connectClient(server.url, 1)
      using bob = await connectClient(server.url, 2)
      const before = await bob.send({ recipient_id: 1 }, 'before the restart')
      await waitFor('first message', () => alice.received.length === 1)

      await server.stop()
      await waitFor('both notice', () => alice.state === 'reconnecting' && bob.state === 'reconnecting')
      // Written while the server is down: queued, then sent on reconnect.
      const queued = [alice.send({ recipient_id: 2 }, 'queued 1'), alice.send({ recipient_id: 2 }, 'queued 2')]
      expect(alice.unconfirmed).toBe(2)

      server = await startServer({ dir, port })
      try {
        // A message sent over REST before alice is back: she gets it from the resume, not live.
        const missed = await api(server, 'POST', '/messages', { sender_id: 2, recipient_id: 1, message: 'while you were away' })
        expect(missed.status).toBe(201)
        const results = await Promise.all(queued)
        expect(results.map((r) => r.duplicate)).toEqual([false, false])
        await waitFor('alice gets the missed message', () => alice.received.length === 2)
        // Bob's REST send reaches his own connection too (a sender's other devices get a copy).
        await waitFor('bob gets the queued messages', () => bob.received.length === 3)
        const after = await bob.send({ recipient_id: 1 }, 'after the restart')
        await waitFor('live again', () => alice.received.length === 3)
        await Bun.sleep(100)

        expect(ids(alice.received)).toEqual([before.message_id, missed.body.id, after.message_id])
        expect(bob.received.map((m) => m.message).sort()).toEqual(['queued 1', 'queued 2', 'while you were away'])
        expect(ids(bob.received)).toEqual(ids(bob.received).toSorted((a, b) => a - b))
        const stored = await storedConversation(server)
        expect(stored.filter((m) => m.sender_id === 1).length).toBe(2)
        expect(stored.length).toBe(5)
      } finally {
        alice.close()
        bob.close()
        await server.stop()
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test('a message stored whose confirmation was lost is resent with its client_id and stored once', async () => {
    await using server = await startServer()
    using proxy = TcpProxy.start(server.port)
    using alice = await connectClient(proxy.url, 1)
    using bob = await connectClient(server.url, 2)

    proxy.blackhole('down') // the server hears alice, alice hears nothing
    const sending = alice.send({ recipient_id: 2 }, 'did this arrive?')
    await waitFor('bob receives it', () => bob.received.length === 1)
    expect(alice.unconfirmed).toBe(1)
    proxy.blackhole('none')
    proxy.cut()

    const result = await sending
    expect(result).toMatchObject({ duplicate: true, message_id: bob.received[0].id, client_id: bob.received[0].client_id! })
    await Bun.sleep(100)
    expect(bob.received.length).toBe(1)
    // The catch-up copy of her own message is not handed to alice as an incoming one.
    expect(alice.received).toEqual([])
    const stored = await storedConversation(server)
    expect(stored.map((m) => m.client_id)).toEqual([result.client_id])
  })

  test('a lost confirmation older than the server’s idempotency window is settled from the backlog, not resent', async () => {
    // The SQLite store recognises a resend for IDEMPOTENCY_WINDOW_SECONDS only; a client offline for
    // longer must not store its message twice. Here the window is 1 ms (forgotten within a second).
    await using server = await startServer({ config: { idempotencyWindowMs: 1 } })
    using proxy = TcpProxy.start(server.port)
    using alice = await connectClient(proxy.url, 1)
    using bob = await connectClient(server.url, 2)

    proxy.blackhole('down')
    const sending = alice.send({ recipient_id: 2 }, 'sent long ago')
    await waitFor('bob receives it', () => bob.received.length === 1)
    await Bun.sleep(1200)
    await bob.send({ recipient_id: 3 }, 'a later message: the server forgets the old client_id now')
    proxy.blackhole('none')
    proxy.cut()

    const result = await sending
    expect(result).toMatchObject({ duplicate: true, message_id: bob.received[0].id })
    await Bun.sleep(200)
    expect(bob.received.length).toBe(1)
    expect(await storedConversation(server)).toHaveLength(1)
  })

  test('heartbeat: a connection that goes silent is dropped and resumed', async () => {
    await using server = await startServer()
    using proxy = TcpProxy.start(server.port)
    using alice = await connectClient(proxy.url, 1, {
      heartbeat: { intervalMs: 100, timeoutMs: 200 },
      reconnect: { initialDelayMs: 20, maxDelayMs: 100, healthyAfterMs: 300, connectTimeoutMs: 500 },
    })
    using bob = await connectClient(server.url, 2)
    const reasons: string[] = []
    alice.on('state', (s) => s.reason && reasons.push(s.reason))

    proxy.blackhole('both') // no FIN, no RST: only the heartbeat can tell
    const lost = await bob.send({ recipient_id: 1 }, 'into the void')
    await waitFor('alice notices the dead connection', () => reasons.includes('no answer to ping'))
    proxy.blackhole('none')
    await waitFor('alice gets the message after resuming', () => alice.received.length === 1)
    expect(alice.received[0].id).toBe(lost.message_id)
    expect(alice.state).toBe('open')
  })

  test('backoff grows while the server is unreachable, is capped, and starts over after a healthy connection', async () => {
    await using server = await startServer()
    using proxy = TcpProxy.start(server.port)
    using alice = await connectClient(proxy.url, 1, { reconnect: { initialDelayMs: 10, maxDelayMs: 80, healthyAfterMs: 200, connectTimeoutMs: 1000 } })
    const waits: StateChange[] = []
    alice.on('state', (s) => s.state === 'reconnecting' && waits.push(s))

    proxy.retarget(1) // nothing listens on port 1: every attempt fails
    proxy.cut()
    await waitFor('six failed attempts', () => waits.length >= 6)
    expect(waits.slice(0, 6).map((w) => w.attempt)).toEqual([1, 2, 3, 4, 5, 6])
    for (const w of waits) {
      const step = Math.min(80, 10 * 2 ** (w.attempt - 1))
      expect(w.delayMs!).toBeGreaterThanOrEqual(step / 2)
      expect(w.delayMs!).toBeLessThanOrEqual(step)
    }

    proxy.retarget(server.port)
    await waitFor('open again', () => alice.state === 'open')
    await Bun.sleep(250) // longer than healthyAfterMs
    waits.length = 0
    proxy.cut()
    await waitFor('reconnecting', () => waits.length >= 1)
    expect(waits[0].attempt).toBe(1)
  })
})

test('a send the database could not store (unavailable) is retried with its client_id and stored once', async () => {
  await using server = await startServer()
  using alice = await connectClient(server.url, 1)
  using bob = await connectClient(server.url, 2)
  const store = server.store as { insertMessages: (...args: any[]) => Promise<any> }
  const original = store.insertMessages.bind(store)
  store.insertMessages = async () => {
    store.insertMessages = original
    throw new Error('disk full (simulated)')
  }
  const errors: string[] = []
  alice.on('error', (e) => errors.push(e.code))
  const result = await alice.send({ recipient_id: 2 }, 'try again')
  expect(result.duplicate).toBe(false)
  await waitFor('bob gets it', () => bob.received.length === 1)
  expect(bob.received[0].id).toBe(result.message_id)
  expect(errors).toEqual([]) // handled by the retry, not surfaced
  expect((await storedConversation(server)).map((m) => m.client_id)).toEqual([result.client_id])
})

test('over the server’s message budget, refused sends wait retry_after and go again: all stored once, in order, no flood close', async () => {
  await using server = await startServer({ config: { rateLimit: true, messagesPerSecond: 40, messagesBurst: 5 } })
  using alice = await connectClient(server.url, 1)
  using bob = await connectClient(server.url, 2)
  const reasons: string[] = []
  alice.on('state', (s) => s.reason && reasons.push(s.reason))
  const texts = Array.from({ length: 40 }, (_, i) => `burst ${i}`)
  const results = await Promise.all(texts.map((text) => alice.send({ recipient_id: 2 }, text)))
  await waitFor('bob has all 40', () => bob.received.length === 40)
  expect(bob.received.map((m) => m.message)).toEqual(texts)
  expect(bob.received.map((m) => m.id)).toEqual(results.map((r) => r.message_id))
  expect(reasons).toEqual([]) // never closed as a flooder
  expect((await storedConversation(server)).length).toBe(40)
})
