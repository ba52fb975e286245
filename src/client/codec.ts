import { packr, unpack } from '../realtime/msgpack'
import type { ClientFrame, Format, ServerFrame } from './types'

/** Encodes a frame for the connection's format: text for JSON, binary for MessagePack. */
export function encodeClientFrame(frame: ClientFrame, format: Format): string | Uint8Array<ArrayBuffer> {
  return format === 'json' ? JSON.stringify(frame) : (packr.pack(frame) as Uint8Array<ArrayBuffer>)
}

/** Decodes what the WebSocket delivered (binaryType 'arraybuffer'); throws on garbage. */
export function decodeServerFrame(data: unknown): ServerFrame {
  if (typeof data === 'string') return JSON.parse(data)
  if (data instanceof ArrayBuffer) return unpack(new Uint8Array(data)) as ServerFrame
  if (ArrayBuffer.isView(data)) return unpack(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)) as ServerFrame
  throw new Error('unexpected WebSocket data')
}
