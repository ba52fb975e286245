import { Packr } from 'msgpackr'

/**
 * The MessagePack that the server, the client library, the instances (over Redis) and the benchmark
 * speak: plain maps with string keys, strings, numbers, booleans, nil, arrays and binary. msgpackr
 * writes it, with none of its extensions (no records, structured clone or bundled strings), so any
 * MessagePack library reads it.
 */
export const packr = new Packr({
  useRecords: false,
  mapsAsObjects: true,
  int64AsType: 'number',
  structuredClone: false,
  bundleStrings: false,
  moreTypes: false,
  // A binary value must never be a view of the frame's own buffer.
  copyBuffers: true,
})

/** Deepest nesting accepted in a MessagePack value (a client frame is a map of scalars). */
export const MAX_MSGPACK_DEPTH = 16

export class MessagePackError extends Error {}

var utf8 = new TextDecoder('utf-8')
// Big-endian floats are reassembled here, byte by byte: no DataView per frame.
const f64 = new Float64Array(1)
const f64Bytes = new Uint8Array(f64.buffer)
const f32 = new Float32Array(1)
const f32Bytes = new Uint8Array(f32.buffer)
const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

/**
 * Decodes exactly one plain MessagePack value from exactly these bytes, or throws MessagePackError.
 *
 * Decoding is ours rather than msgpackr's because every frame is hostile until checked: msgpackr's
 * decoder always honours its extensions (records, bundled strings that read past the end of the
 * frame, structured-clone pointers whose values double at each level), keeps module-wide state
 * between calls, and builds its error message from the whole decoded value. Here there is one pass
 * over the frame's own bytes, in time linear in their number: every extension type and the byte
 * 0xc1 are refused, as are a length that runs past the end, a container claiming more values than
 * the bytes could hold, nesting deeper than MAX_MSGPACK_DEPTH, a key that is not a string, and any
 * byte after the value.
 */
export function unpack(bytes: Uint8Array, maxDepth = MAX_MSGPACK_DEPTH): unknown {
  src = bytes
  pos = 0
  depthLimit = maxDepth
  let value: unknown
  try {
    value = read(0)
  } catch (error) {
    src = EMPTY
    throw error
  }
  // Nothing of this frame outlives the call.
  src = EMPTY
  if (pos !== bytes.length) fail('bytes after the value')
  return value
}

// The frame being decoded: module state rather than an object (decoding never calls out, so it
// cannot re-enter), and `var`, which JavaScriptCore reads without a temporal-dead-zone check.
var EMPTY = new Uint8Array(0)
var src: Uint8Array = EMPTY
var pos = 0
var depthLimit = MAX_MSGPACK_DEPTH

/**
 * Map keys recur in every frame ('type', 'recipient_id', ...): a short ASCII key is looked up here
 * by a hash of its bytes and compared, instead of being built and interned again.
 */
var KEY_SLOTS = 1024
var keyCache: (string | undefined)[] = new Array(KEY_SLOTS)

function key(length: number): string {
  if (length > 24) return string(length)
  need(length)
  let hash = length
  for (let i = pos; i < pos + length; i++) {
    const c = src[i]
    if (c >= 0x80) return string(length)
    hash = (hash * 31 + c) | 0
  }
  const slot = hash & (KEY_SLOTS - 1)
  const cached = keyCache[slot]
  if (cached !== undefined && cached.length === length) {
    let same = true
    for (let i = 0; i < length; i++)
      if (cached.charCodeAt(i) !== src[pos + i]) {
        same = false
        break
      }
    if (same) {
      pos += length
      return cached
    }
  }
  const made = string(length)
  keyCache[slot] = made
  return made
}

function fail(why: string): never {
  throw new MessagePackError(why)
}

function need(n: number): void {
  if (pos + n > src.length) fail('the frame ends inside a value')
}

function u8(): number {
  need(1)
  return src[pos++]
}

function u16(): number {
  need(2)
  const v = (src[pos] << 8) | src[pos + 1]
  pos += 2
  return v
}

function u32(): number {
  need(4)
  const v = src[pos] * 0x1000000 + ((src[pos + 1] << 16) | (src[pos + 2] << 8) | src[pos + 3])
  pos += 4
  return v
}

function float(n: 4 | 8): number {
  need(n)
  const target = n === 8 ? f64Bytes : f32Bytes
  for (let i = 0; i < n; i++) target[littleEndian ? n - 1 - i : i] = src[pos + i]
  pos += n
  return n === 8 ? f64[0] : f32[0]
}

/** A 64-bit integer as a JavaScript number (exact up to 2^53, as msgpackr's int64AsType 'number'). */
function int64(signed: boolean): number {
  const high = u32()
  const low = u32()
  return (signed && high >= 0x80000000 ? high - 0x100000000 : high) * 0x100000000 + low
}

function string(length: number): string {
  need(length)
  const start = pos
  pos += length
  if (length < 16) {
    let s = ''
    for (let i = start; i < pos; i++) {
      const c = src[i]
      if (c >= 0x80) return utf8String(src.subarray(start, pos))
      s += String.fromCharCode(c)
    }
    return s
  }
  return utf8String(src.subarray(start, pos))
}

/**
 * Invalid UTF-8 becomes U+FFFD: every string that leaves here is well formed. A surrogate encoded
 * by itself (ED A0-BF 80-BF, what msgpackr and other encoders write for a lone surrogate) becomes
 * one U+FFFD, as the same string's \u escape does in JSON (src/protocol/well-formed.ts); the decoder alone
 * would make it three.
 */
function utf8String(bytes: Uint8Array): string {
  const from = bytes.indexOf(0xed)
  if (from === -1) return utf8.decode(bytes)
  let copy: Uint8Array | null = null
  for (let i = from; i + 2 < bytes.length; i++) {
    if (bytes[i] !== 0xed || bytes[i + 1] < 0xa0 || bytes[i + 1] > 0xbf || bytes[i + 2] < 0x80 || bytes[i + 2] > 0xbf) continue
    copy ??= bytes.slice()
    copy[i] = 0xef
    copy[i + 1] = 0xbf
    copy[i + 2] = 0xbd
    i += 2
  }
  return utf8.decode(copy ?? bytes)
}

/** Opens a container of `n` entries of `perEntry` values each, at `depth`. */
function open(n: number, perEntry: 1 | 2, depth: number): void {
  if (depth >= depthLimit) fail(`nesting deeper than ${depthLimit}`)
  // Every value takes at least one byte: a count beyond the bytes left is a lie.
  if (n * perEntry > src.length - pos) fail('a container claims more values than the frame holds')
}

function array(n: number, depth: number): unknown[] {
  open(n, 1, depth)
  const out = new Array(n)
  for (let i = 0; i < n; i++) out[i] = read(depth + 1)
  return out
}

function map(n: number, depth: number): Record<string, unknown> {
  open(n, 2, depth)
  const out: Record<string, unknown> = {}
  for (let i = 0; i < n; i++) {
    const token = u8()
    let name: string
    if (token >= 0xa0 && token <= 0xbf) name = key(token - 0xa0)
    else if (token === 0xd9) name = key(u8())
    else if (token === 0xda) name = string(u16())
    else if (token === 0xdb) name = string(u32())
    else return fail('a map key is not a string')
    const value = read(depth + 1)
    // A plain own property, even for "__proto__", as JSON.parse makes it.
    if (name === '__proto__') Object.defineProperty(out, name, { value, enumerable: true, writable: true, configurable: true })
    else out[name] = value
  }
  return out
}

function binary(length: number): Uint8Array {
  need(length)
  // A copy (Buffer#slice would be a view of the frame).
  const copy = Uint8Array.prototype.slice.call(src, pos, pos + length)
  pos += length
  return copy
}

/** The next value; `depth` is the number of containers around it. */
function read(depth: number): unknown {
  const token = u8()
  if (token <= 0x7f) return token
  if (token >= 0xe0) return token - 0x100
  if (token >= 0xa0 && token <= 0xbf) return string(token - 0xa0)
  if (token >= 0x80 && token <= 0x8f) return map(token - 0x80, depth)
  if (token >= 0x90 && token <= 0x9f) return array(token - 0x90, depth)
  switch (token) {
    case 0xc0: return null
    case 0xc2: return false
    case 0xc3: return true
    case 0xc4: return binary(u8())
    case 0xc5: return binary(u16())
    case 0xc6: return binary(u32())
    case 0xca: return float(4)
    case 0xcb: return float(8)
    case 0xcc: return u8()
    case 0xcd: return u16()
    case 0xce: return u32()
    case 0xcf: return int64(false)
    case 0xd0: return (u8() << 24) >> 24
    case 0xd1: return (u16() << 16) >> 16
    case 0xd2: return u32() | 0
    case 0xd3: return int64(true)
    case 0xd9: return string(u8())
    case 0xda: return string(u16())
    case 0xdb: return string(u32())
    case 0xdc: return array(u16(), depth)
    case 0xdd: return array(u32(), depth)
    case 0xde: return map(u16(), depth)
    case 0xdf: return map(u32(), depth)
  }
  // 0xc1 (msgpackr's bundled-string reference) and the extension types 0xc7-0xc9, 0xd4-0xd8.
  return fail(`MessagePack type 0x${token.toString(16)} is not accepted`)
}
