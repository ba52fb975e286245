import { Packr } from 'msgpackr'

/**
 * The MessagePack that the server, the client library, the instances (over Redis) and the benchmark
 * speak: plain maps (no msgpackr record extension), so that any MessagePack library reads them.
 * `copyBuffers`, because `unpack` below reads from a buffer that the next frame overwrites.
 */
export const packr = new Packr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number', copyBuffers: true })

/** Frames up to this size are copied into one reused buffer; larger ones are read where they are. */
const REUSED_MAX = 64 * 1024
let reused = new Uint8Array(4096)

/**
 * Decodes one MessagePack value; throws on bytes that are not one. msgpackr keeps a DataView on the
 * buffer it reads, and every frame a WebSocket hands over is a new buffer: building that DataView
 * (and, for a Bun Buffer, the ArrayBuffer under it) cost more than the decoding itself. Copied into
 * a buffer it has seen, a client's `message` frame took 0.8 against 1.9 to 2.2 µs (docs/BENCHMARKS.md).
 */
export function unpack(bytes: Uint8Array): unknown {
  if (bytes.length > REUSED_MAX) return packr.unpack(bytes)
  if (bytes.length > reused.length) reused = new Uint8Array(REUSED_MAX)
  reused.set(bytes)
  return packr.unpack(reused, { end: bytes.length })
}
