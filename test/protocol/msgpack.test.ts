import { describe, expect, test } from 'bun:test'
import { Packr } from 'msgpackr'
import { jsonNestsDeeperThan } from '../../src/protocol/codec'
import { MAX_MSGPACK_DEPTH, MessagePackError, packr, unpack } from '../../src/protocol/msgpack'

const u32 = (n: number) => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]
const refused = (bytes: number[] | Uint8Array) => {
  try {
    unpack(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes))
    return 'accepted'
  } catch (e) {
    expect(e).toBeInstanceOf(MessagePackError)
    return 'refused'
  }
}

describe('plain MessagePack only', () => {
  test('every frame the protocol uses decodes, from its own bytes', () => {
    const frames = [
      { type: 'message', recipient_id: 2, message: 'héllo 👋', message_type: 'text', client_id: 'c-1', timestamp: '2024-01-01T12:00:00' },
      { type: 'typing', group_id: 1, is_typing: true, timestamp: 1_700_000_000_000 },
      { type: 'read_receipt', message_id: 2 ** 40, sender_id: 1 },
      { type: 'ping', ref: 'r'.repeat(64), nested: { list: [1, -1, 0.5, null, false, 'x'.repeat(70_000)] } },
    ]
    for (const frame of frames) expect(unpack(packr.pack(frame))).toEqual(frame)
  })

  // Each of these is a msgpackr extension a client frame has no use for; through them a frame read
  // past its own end (bundled strings), or grew exponentially (structured-clone pointers).
  test.each([
    ['bundled strings (ext 0x62)', [0xd6, 0x62, ...u32(8), 0x81, 0xa1, 0x61, 0xa0, 0xa0, 0xa0]],
    ['a bundled-string reference (0xc1)', [0x81, 0xa1, 0x61, 0xc1, 0x05]],
    ['a structured-clone id (ext 0x69)', [0xd6, 0x69, ...u32(1), 0x90]],
    ['a structured-clone pointer (ext 0x70)', [0xd6, 0x70, ...u32(1)]],
    ['a record definition (fixext 1, 0x72)', [0xd4, 0x72, 0x40, 0x91, 0xa1, 0x61, 0x01]],
    ['a two-byte record definition (fixext 2, 0x72)', [0xd5, 0x72, 0x40, 0x01, 0x90]],
    ['a timestamp (ext -1)', [0xd6, 0xff, ...u32(0)]],
    ['an ext 8 of any type', [0xc7, 0x01, 0x42, 0x00]],
    ['an ext 32', [0xc9, ...u32(1), 0x05, 0x00]],
  ])('%s is refused', (_name, bytes) => {
    expect(refused(bytes)).toBe('refused')
  })

  test.each([
    ['a byte after the value', [0x81, 0xa1, 0x61, 0x01, 0xc0]],
    ['a string that runs past the end', [0x81, 0xa3, 0x72, 0x65, 0x66, 0xd9, 0xc8, 0x41]],
    ['a str 32 claiming 4 GB', [0xdb, 0xff, 0xff, 0xff, 0xff]],
    ['a map claiming 4 billion pairs', [0xdf, 0xff, 0xff, 0xff, 0xff, 0xc0]],
    ['an array claiming more values than there are bytes', [0xdc, 0x00, 0x10, 0x01, 0x02]],
    ['a number cut short', [0xcb, 0x00, 0x00]],
    ['nothing at all', []],
    ['nesting one level too deep', new Array(MAX_MSGPACK_DEPTH + 1).fill(0x91).concat([0xc0])],
    ['a map key that is not a string', [0x81, 0x01, 0x02]],
  ])('%s is refused', (_name, bytes) => {
    expect(refused(bytes)).toBe('refused')
  })

  test('nesting at the limit is accepted', () => {
    expect(refused(new Array(MAX_MSGPACK_DEPTH).fill(0x91).concat([0xc0]))).toBe('accepted')
  })

  test('a structured-clone bomb (a value that doubles at each level) is refused before msgpackr builds it', () => {
    const cloning = new Packr({ structuredClone: true, useRecords: false })
    let value: unknown = ['x'.repeat(40)]
    for (let i = 0; i < 24; i++) value = [value, value]
    const bomb = new Uint8Array([...cloning.pack({ type: 'ping', ref: value }), 0xc0])
    expect(bomb.length).toBeLessThan(400)
    expect(() => unpack(bomb)).toThrow(MessagePackError)
  })

  test('whatever msgpackr writes without extensions decodes to the same value', () => {
    let x = 11
    const next = () => ((x ^= x << 13), (x ^= x >>> 17), (x ^= x << 5), (x >>> 0) / 2 ** 32)
    const scalar = (): unknown => {
      const r = next()
      if (r < 0.1) return null
      if (r < 0.2) return next() < 0.5
      if (r < 0.35) return Math.floor(next() * 2 ** 32) - 2 ** 31
      if (r < 0.45) return Math.floor(next() * 2 ** 53) * (next() < 0.5 ? -1 : 1)
      if (r < 0.55) return (next() - 0.5) * 1e6
      if (r < 0.6) return Math.floor(next() * 300) - 40
      if (r < 0.9) return Array.from({ length: Math.floor(next() * 80) }, () => String.fromCodePoint(Math.floor(next() * 0x2ffff) % 0xd7ff || 1)).join('')
      return new Uint8Array(Array.from({ length: Math.floor(next() * 70) }, () => Math.floor(next() * 256)))
    }
    const value = (depth: number): unknown => {
      const r = next()
      if (depth > 4 || r < 0.6) return scalar()
      if (r < 0.8) return Array.from({ length: Math.floor(next() * 8) }, () => value(depth + 1))
      return Object.fromEntries(Array.from({ length: Math.floor(next() * 8) }, (_, i) => [`k${i}${'x'.repeat(i)}`, value(depth + 1)]))
    }
    for (let i = 0; i < 500; i++) {
      const v = value(0)
      expect(unpack(packr.pack(v))).toEqual(packr.unpack(packr.pack(v)))
    }
  })

  test('"__proto__" is an ordinary key, as in JSON.parse', () => {
    const decoded = unpack(new Uint8Array([0x81, 0xa9, ...new TextEncoder().encode('__proto__'), 0x81, 0xa5, ...new TextEncoder().encode('admin'), 0xc3])) as Record<string, any>
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype)
    expect(decoded.admin).toBeUndefined()
    expect(Object.keys(decoded)).toEqual(['__proto__'])
  })

  test('binary values are copies, not views of the frame', () => {
    const bytes = packr.pack({ data: new Uint8Array([1, 2, 3]) })
    const decoded = unpack(bytes) as { data: Uint8Array }
    bytes.fill(0)
    expect([...decoded.data]).toEqual([1, 2, 3])
  })

  test('random bytes never throw anything but MessagePackError or msgpackr’s own error, and never hang', () => {
    let x = 7
    const next = () => ((x ^= x << 13), (x ^= x >>> 17), (x ^= x << 5), (x >>> 0) % 256)
    for (let i = 0; i < 20_000; i++) {
      const bytes = new Uint8Array(1 + (next() % 48))
      for (let j = 0; j < bytes.length; j++) bytes[j] = next()
      try {
        unpack(bytes)
      } catch (e) {
        expect(e).toBeInstanceOf(Error)
      }
    }
  })
})

describe('JSON nesting, found before parsing', () => {
  test.each([
    ['flat', '{"type":"ping"}', false],
    ['at the limit', '['.repeat(16) + ']'.repeat(16), false],
    ['one beyond', '['.repeat(17) + ']'.repeat(17), true],
    ['brackets inside a string do not count', JSON.stringify({ type: 'message', message: '[[[[{{{{'.repeat(40) }), false],
    ['an escaped quote does not end the string', JSON.stringify({ message: '\\"' + '['.repeat(40) }), false],
    ['many siblings are not depth', JSON.stringify({ a: Array.from({ length: 100 }, () => [1]) }), false],
    ['deep inside a field', `{"type":"ping","x":${'{"a":'.repeat(20)}1${'}'.repeat(20)}}`, true],
  ])('%s', (_name, text, deep) => {
    expect(jsonNestsDeeperThan(text, 16)).toBe(deep)
  })
})
