import { wellFormedFields } from '../http/text'
import { MessagePackError, packr, unpack } from './msgpack'
import type { Format, ServerFrame } from './protocol'

/** The one place that knows JSON from MessagePack. */
export type Encoded = string | Uint8Array

/** Encodes a server frame for a connection of the given format. */
export function encodeFrame(frame: ServerFrame, format: Format): Encoded {
  return format === 'json' ? JSON.stringify(frame) : packr.pack(frame)
}

export type Decoded = { ok: true; value: unknown } | { ok: false; code: 'invalid_json' | 'invalid_msgpack'; message: string }

/**
 * Decodes a client frame as Bun hands it over: text frames are JSON, binary frames MessagePack,
 * whatever the connection's own format (a client may switch per frame). Every string field it
 * returns is well-formed Unicode, in both framings.
 */
export function decodeFrame(raw: string | Uint8Array): Decoded {
  if (typeof raw === 'string') {
    try {
      return { ok: true, value: wellFormedFields(JSON.parse(raw)) }
    } catch {
      return { ok: false, code: 'invalid_json', message: 'the frame is not valid JSON' }
    }
  }
  try {
    return { ok: true, value: unpack(raw) }
  } catch (error) {
    const why = error instanceof MessagePackError ? `: ${error.message}` : ''
    return { ok: false, code: 'invalid_msgpack', message: `the frame is not valid MessagePack${why}` }
  }
}

/** Chooses the format from `?format=` or the offered subprotocols; undefined when none is valid. */
export function negotiateFormat(queryFormat: string | undefined, protocols: string | null): { format: Format; protocol?: Format } | undefined {
  if (queryFormat !== undefined) return queryFormat === 'json' || queryFormat === 'msgpack' ? { format: queryFormat } : undefined
  if (protocols) {
    for (const offered of protocols.split(',')) {
      const name = offered.trim()
      if (name === 'msgpack' || name === 'json') return { format: name, protocol: name }
    }
  }
  return { format: 'json' }
}
