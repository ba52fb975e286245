import { describe, expect, test } from 'bun:test'
import { IdempotencyWindow, NumberTable, keyHash } from '../../src/db/idempotency-window'

describe('IdempotencyWindow', () => {
  test('names the message a (sender, client_id) was stored as; other senders and ids are apart', () => {
    const w = new IdempotencyWindow(60_000, 1000)
    w.add(1, 'c-1', 10, 0)
    expect(w.candidate(1, 'c-1')).toBe(10)
    expect(w.candidate(2, 'c-1')).toBeUndefined()
    expect(w.candidate(1, 'c-2')).toBeUndefined()
  })

  test('forgets keys once they are older than the window, not before', () => {
    const w = new IdempotencyWindow(60_000, 1000)
    w.add(1, 'old', 1, 0)
    w.add(1, 'new', 2, 30_000)
    w.prune(60_500)
    expect(w.candidate(1, 'old')).toBe(1)
    w.prune(61_000)
    expect(w.candidate(1, 'old')).toBeUndefined()
    expect(w.candidate(1, 'new')).toBe(2)
    w.prune(91_000)
    expect(w.candidate(1, 'new')).toBeUndefined()
    expect(w.size).toBe(0)
  })

  test('beyond maxKeys the oldest go first, with one warning that names the setting', () => {
    const warnings: string[] = []
    const w = new IdempotencyWindow(60_000, 1000, (m) => warnings.push(m))
    for (let i = 1; i <= 1500; i++) w.add(7, `k${i}`, i, 0)
    w.prune(1)
    w.prune(2)
    expect(w.size).toBe(1000)
    expect(w.candidate(7, 'k500')).toBeUndefined()
    expect(w.candidate(7, 'k501')).toBe(501)
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toContain('IDEMPOTENCY_MAX_KEYS')
  })

  test('a rolled-back key is forgotten, and a key stored again later survives the old one’s expiry', () => {
    const w = new IdempotencyWindow(60_000, 1000)
    w.add(1, 'c', 5, 0)
    w.delete(1, 'c', 5)
    expect(w.candidate(1, 'c')).toBeUndefined()
    w.add(1, 'c', 9, 59_000)
    w.prune(61_000)
    expect(w.candidate(1, 'c')).toBe(9)
  })

  test('keeps working as its queue wraps and grows', () => {
    const w = new IdempotencyWindow(1000, 100_000)
    let id = 0
    for (let second = 0; second < 50; second++) {
      for (let i = 0; i < 3000; i++) w.add(i % 50, `s${second}-${i}`, ++id, second * 1000)
      w.prune(second * 1000)
    }
    expect(w.candidate(3, 's49-3')).toBe(id - 3000 + 4)
    expect(w.candidate(3, 's40-3')).toBeUndefined()
    expect(w.size).toBeLessThanOrEqual(3 * 3000)
  })

  test('the hash spreads: 200,000 keys of one sender, no collision', () => {
    const seen = new Set<number>()
    for (let i = 0; i < 200_000; i++) seen.add(keyHash(42, `${i.toString(36)}-client`))
    for (let s = 0; s < 1000; s++) seen.add(keyHash(s, 'same-client-id'))
    expect(seen.size).toBe(201_000)
  })

  test('its table keeps keys that share a slot apart, across deletions, near half full', () => {
    const t = new NumberTable(400_000)
    const slotMates = [5, 5 + 2 ** 32, 5 + 2 * 2 ** 32, 5 + 3 * 2 ** 32] // the same low 32 bits
    slotMates.forEach((k, i) => t.set(k, i + 1))
    t.delete(slotMates[1])
    expect(slotMates.map((k) => t.get(k))).toEqual([1, undefined, 3, 4])
    t.set(slotMates[1], 9)
    t.set(slotMates[2], 7)
    expect(slotMates.map((k) => t.get(k))).toEqual([1, 9, 7, 4])
    for (let k = 1000; k < 200_000; k++) t.set(k * 65_537, k)
    for (let k = 1000; k < 200_000; k += 2) t.delete(k * 65_537)
    expect(t.size).toBe(4 + 99_500)
    expect([t.get(1001 * 65_537), t.get(1000 * 65_537), t.get(199_999 * 65_537)]).toEqual([1001, undefined, 199_999])
    expect(slotMates.map((k) => t.get(k))).toEqual([1, 9, 7, 4])
    // Deleting the first of a run must not hide the ones behind it (no tombstones: they move up).
    for (const k of slotMates) t.delete(k)
    expect(slotMates.map((k) => t.get(k))).toEqual([undefined, undefined, undefined, undefined])
    for (let k = 1001; k < 200_000; k += 2) expect(t.get(k * 65_537)).toBe(k)
  })

  test('a full ring lets its oldest key go at once, and says so at the next prune', () => {
    const warnings: string[] = []
    const w = new IdempotencyWindow(60_000, 1000, (m) => warnings.push(m))
    // One batch larger than maxKeys plus the slack, before any prune.
    for (let i = 1; i <= 1000 + 16_384 + 10; i++) w.add(1, `k${i}`, i, 0)
    expect(w.candidate(1, 'k10')).toBeUndefined()
    expect(w.candidate(1, 'k11')).toBe(11)
    w.prune(1)
    expect(w.size).toBe(1000)
    expect(warnings).toHaveLength(1)
  })

  test('its table agrees with a Map over 200,000 random sets, deletes and gets with many collisions', () => {
    const t = new NumberTable(1024)
    const m = new Map<number, number>()
    let seed = 42
    const random = (n: number) => (seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0) % n
    // Keys crowd into 64 home slots, so runs are long and wrap around the table's end.
    const key = () => 1 + (1000 + random(64)) + random(8) * 2 ** 32
    for (let op = 0; op < 200_000; op++) {
      const k = key()
      const r = random(3)
      if (r === 0 && m.size < 450) {
        t.set(k, op)
        m.set(k, op)
      } else if (r === 1) {
        t.delete(k)
        m.delete(k)
      } else expect(t.get(k)).toBe(m.get(k))
    }
    expect(t.size).toBe(m.size)
    for (const [k, v] of m) expect(t.get(k)).toBe(v)
  })
})
