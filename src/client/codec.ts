import { packr, unpack } from '../protocol/msgpack'
import type { ClientFrame, Format, ServerFrame } from './types'

/** Encodes a frame for the connection's format: text for JSON, binary for MessagePack. */
export function encodeClientFrame(frame: ClientFrame, format: Format): string | Uint8Array<ArrayBuffer> {
  return format === 'json' ? JSON.stringify(frame) : (packr.pack(frame) as Uint8Array<ArrayBuffer>)
}

/**
 * A frame in the other framing than the connection's (a text frame on a MessagePack connection, a
 * binary one on a JSON connection): the server broke the protocol, whatever the frame says.
 */
export class FramingError extends Error {}

/**
 * Decodes what the WebSocket delivered (binaryType 'arraybuffer') on a connection of `format`;
 * throws FramingError on a frame in the other framing, another error on garbage.
 */
export function decodeServerFrame(data: unknown, format: Format): ServerFrame {
  const text = typeof data === 'string'
  if (text !== (format === 'json')) throw new FramingError(`a ${text ? 'text' : 'binary'} frame on a ${format === 'json' ? 'JSON' : 'MessagePack'} connection`)
  if (text) return JSON.parse(data)
  if (data instanceof ArrayBuffer) return unpack(new Uint8Array(data)) as ServerFrame
  if (ArrayBuffer.isView(data)) return unpack(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)) as ServerFrame
  throw new Error('unexpected WebSocket data')
}
