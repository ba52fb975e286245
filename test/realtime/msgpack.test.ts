import { describe, expect, test } from 'bun:test'
import { packr, unpack } from '../../src/realtime/msgpack'

/** unpack reads through one reused buffer: what an earlier frame left there must never leak. */
describe('MessagePack decoding through a reused buffer', () => {
  test('a truncated frame after a longer one is an error, not the longer one completed', () => {
    const whole = packr.pack({ type: 'message', recipient_id: 2, message: 'x'.repeat(200) })
    expect(unpack(whole)).toEqual({ type: 'message', recipient_id: 2, message: 'x'.repeat(200) })
    expect(() => unpack(whole.subarray(0, whole.length - 10))).toThrow()
    expect(() => unpack(whole.subarray(0, 3))).toThrow()
  })

  test('binary values are copies, not views of the buffer the next frame overwrites', () => {
    const first = unpack(packr.pack({ data: new Uint8Array([1, 2, 3]) })) as { data: Uint8Array }
    unpack(packr.pack({ data: new Uint8Array([9, 9, 9]) }))
    expect([...first.data]).toEqual([1, 2, 3])
  })

  test('frames larger than the reused buffer decode, before and after smaller ones', () => {
    const big = { message: 'y'.repeat(100_000) }
    const mid = { message: 'z'.repeat(10_000) }
    expect(unpack(packr.pack({ a: 1 }))).toEqual({ a: 1 })
    expect(unpack(packr.pack(big))).toEqual(big)
    expect(unpack(packr.pack(mid))).toEqual(mid)
    expect(unpack(packr.pack({ b: 2 }))).toEqual({ b: 2 })
  })
})
