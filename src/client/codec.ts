import { Packr } from 'msgpackr'
import type { ClientFrame, Format, ServerFrame } from './types'

// The same plain-map MessagePack the server speaks (see src/realtime/codec.ts).
const packr = new Packr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' })

/** Encodes a frame for the connection's format: text for JSON, binary for MessagePack. */
export function encodeClientFrame(frame: ClientFrame, format: Format): string | Uint8Array<ArrayBuffer> {
  return format === 'json' ? JSON.stringify(frame) : (packr.pack(frame) as Uint8Array<ArrayBuffer>)
}

/** Decodes what the WebSocket delivered (binaryType 'arraybuffer'); throws on garbage. */
export function decodeServerFrame(data: unknown): ServerFrame {
  if (typeof data === 'string') return JSON.parse(data)
  if (data instanceof ArrayBuffer) return packr.unpack(new Uint8Array(data))
  if (ArrayBuffer.isView(data)) return packr.unpack(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))
  throw new Error('unexpected WebSocket data')
}
