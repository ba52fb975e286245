import { describe, expect, test } from 'bun:test'
import { startCluster } from '../cluster/cluster-helpers'
import { api, startServer } from '../helpers/server'
import { prng, StreamDevice, type Frame } from '../helpers/stream-device'
import { postgresUnavailable, REDIS_URL, redisUnavailable } from '../helpers/services'

type Shown = { conv: string; sender: number; text: string; deleted: boolean; edited: boolean; replyTo: number | null; reactions: string[] }

/**
 * What one device of a user shows, built only from the frames it receives: every message with its
 * text, whether it was edited or deleted, what it replies to, and its reactions (user:emoji).
 */
class Device extends StreamDevice {
  readonly shown = new Map<number, Shown>()
  /** Own messages sent and not yet confirmed: the sending connection gets `message_sent`, not the message. */
  private readonly sending: Shown[] = []

  protected apply(f: Frame): void {
    const at = (id: number) => this.shown.get(id)
    switch (f.type) {
      case 'message_sent': {
        const own = this.sending.shift()
        if (own && !this.shown.has(f.message_id)) this.shown.set(f.message_id, own)
        break
      }
      case 'message':
        this.shown.set(f.id, { sender: f.sender_id, conv: f.group_id !== undefined ? `g${f.group_id}` : `d${Math.min(f.sender_id, f.recipient_id)}:${Math.max(f.sender_id, f.recipient_id)}`, text: f.message, deleted: f.deleted === true, edited: f.edited_at !== undefined, replyTo: f.reply_to_id ?? null, reactions: at(f.id)?.reactions ?? [] })
        break
      case 'message_edited':
        if (at(f.message_id)) Object.assign(at(f.message_id)!, { text: f.message, edited: true })
        break
      case 'message_deleted':
        if (at(f.message_id)) Object.assign(at(f.message_id)!, { text: '', deleted: true, reactions: [] })
        break
      case 'reaction_added':
      case 'reaction_removed': {
        const m = at(f.message_id)
        if (!m) break
        const key = `${f.user_id}:${f.emoji}`
        m.reactions = m.reactions.filter((r) => r !== key)
        if (f.type === 'reaction_added') m.reactions.push(key)
        m.reactions.sort()
        break
      }
    }
  }

  override send(frame: Frame): void {
    if (frame.type === 'message' && this.ws) {
      const conv = frame.group_id !== undefined ? `g${frame.group_id}` : `d${Math.min(this.userId, frame.recipient_id)}:${Math.max(this.userId, frame.recipient_id)}`
      this.sending.push({ sender: this.userId, conv, text: frame.message, deleted: false, edited: false, replyTo: frame.reply_to_id ?? null, reactions: [] })
    }
    super.send(frame)
  }
}

const EMOJI = ['👍', '❤️', '🎉', '😂']

/**
 * Bob has two devices: one stays connected, the other drops and comes back with its `since` at
 * random points (on either instance when there are two). Alice and carol send (some replies),
 * edit, delete and react at random, in the group and to bob directly. In the end both devices
 * show the same thing, and it is what history says.
 */
async function converges(urls: string[], format: 'json' | 'msgpack', seed: number, restOf: (path: string) => Promise<any>) {
  const random = prng(seed)
  const steady = new Device(2, format)
  const flaky = new Device(2, format)
  const actors = [new Device(1, format), new Device(3, format)]
  await steady.connect(urls[0])
  await flaky.connect(urls[urls.length - 1])
  for (const a of actors) await a.connect(urls[Math.floor(random() * urls.length)])
  let stop = false
  const flapping = (async () => {
    while (!stop) {
      await Bun.sleep(random() * 40)
      await flaky.close()
      await Bun.sleep(random() * 40)
      const connecting = flaky.connect(urls[Math.floor(random() * urls.length)])
      if (random() < 0.3) await Bun.sleep(random() * 5)
      else await connecting
    }
  })()
  for (let i = 0; i < 60; i++) {
    const actor = actors[Math.floor(random() * actors.length)]
    const mine = [...actor.shown.entries()].filter(([, m]) => !m.deleted && m.sender === actor.userId).map(([id]) => id)
    const reactable = [...actor.shown.entries()].filter(([, m]) => !m.deleted).map(([id]) => id)
    const any = [...actor.shown.keys()]
    const roll = random()
    if (roll < 0.4 || !any.length) {
      const group = random() < 0.5
      const to = group ? { group_id: 1 } : { recipient_id: 2 }
      const conv = group ? 'g1' : `d${Math.min(actor.userId, 2)}:${Math.max(actor.userId, 2)}`
      // Sometimes a reply, to a message of the same conversation.
      const parents = [...actor.shown.entries()].filter(([, m]) => m.conv === conv && !m.deleted).map(([id]) => id)
      const replyTo = parents.length && random() < 0.3 ? { reply_to_id: parents[Math.floor(random() * parents.length)] } : {}
      actor.send({ type: 'message', ...to, message: `m${i}`, ...replyTo })
    } else if (roll < 0.6) {
      const own = mine.filter((id) => actor.shown.get(id) && steady.shown.get(id))
      if (own.length) actor.send({ type: 'edit_message', message_id: own[Math.floor(random() * own.length)], message: `edit ${i}` })
    } else if (roll < 0.7) {
      if (mine.length) actor.send({ type: 'delete_message', message_id: mine[Math.floor(random() * mine.length)] })
    } else {
      const target = reactable[Math.floor(random() * Math.max(1, reactable.length))]
      if (target !== undefined) actor.send({ type: random() < 0.7 ? 'add_reaction' : 'remove_reaction', message_id: target, emoji: EMOJI[Math.floor(random() * EMOJI.length)] })
    }
    await Bun.sleep(random() * 15)
  }
  stop = true
  await flapping
  await Bun.sleep(300)
  await flaky.close()
  await flaky.connect(urls[0])
  const ids = [...new Set([...steady.shown.keys(), ...flaky.shown.keys()])].sort((a, b) => a - b)
  const view = (d: Device) => ids.map((id) => ({ id, ...d.shown.get(id) }))
  expect(view(flaky)).toEqual(view(steady))
  // The run did what it says: edits, deletes, replies and reactions happened.
  const all = [...steady.shown.values()]
  expect(all.filter((m) => m.edited).length).toBeGreaterThan(0)
  expect(all.filter((m) => m.deleted).length).toBeGreaterThan(0)
  expect(all.filter((m) => m.replyTo !== null).length).toBeGreaterThan(0)
  expect(all.filter((m) => m.reactions.length).length).toBeGreaterThan(0)
  // And what the server says, through history (bob's view of the group and of each direct conversation).
  const history = new Map<number, any>()
  for (const path of ['/messages?user_id=2&group_id=1&limit=200', '/messages?user_id=2&other_user_id=1&limit=200', '/messages?user_id=2&other_user_id=3&limit=200'])
    for (const m of (await restOf(path)).messages) history.set(m.id, m)
  for (const id of ids) {
    const m = history.get(id)
    const shown = steady.shown.get(id)!
    expect({ id, text: shown.text, deleted: shown.deleted, reactions: shown.reactions.length }).toEqual({
      id,
      text: m.message,
      deleted: m.deleted === true,
      reactions: (m.reactions ?? []).reduce((n: number, r: any) => n + r.count, 0),
    })
  }
  for (const d of [steady, flaky, ...actors]) await d.close()
}

const skipReason = (await postgresUnavailable()) ?? (await redisUnavailable())
const clusterTest = skipReason ? test.skip : test

describe('a device that was away converges to one that stayed online', () => {
  for (const [format, seed] of [['json', 11], ['msgpack', 12], ['json', 13]] as const) {
    test(`one instance, ${format}, seed ${seed}`, async () => {
      await using server = await startServer()
      await converges([server.wsUrl], format, seed, async (path) => (await api(server, 'GET', path)).body)
    }, 30_000)
  }
  clusterTest(`two instances over Redis and PostgreSQL${skipReason ? ` (skipped: ${skipReason})` : ''}`, async () => {
    await using cluster = await startCluster(2, { redisUrl: REDIS_URL })
    const [a] = cluster.instances
    await converges(cluster.instances.map((i) => i.wsUrl), 'msgpack', 21, async (path) => (await api(a, 'GET', path)).body)
  }, 60_000)
})
