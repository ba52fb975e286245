import { wellFormedFields } from './well-formed'
import { MAX_MSGPACK_DEPTH, MessagePackError, packr, unpack } from './msgpack'
import type { Format, ServerFrame } from './frames'

/** The one place that knows JSON from MessagePack. */
export type Encoded = string | Uint8Array

/** Encodes a server frame for a connection of the given format. */
export function encodeFrame(frame: ServerFrame, format: Format): Encoded {
  return format === 'json' ? JSON.stringify(frame) : packr.pack(frame)
}

export type Decoded = { ok: true; value: unknown } | { ok: false; code: 'invalid_json' | 'invalid_msgpack' | 'invalid_frame'; message: string }

/** Deepest nesting a client frame may have, in either framing (a frame is a map of scalars). */
export const MAX_FRAME_DEPTH = MAX_MSGPACK_DEPTH

/** How many `[` and `{` the text holds, counting no further than `max + 1`. */
function openings(text: string, max: number): number {
  let n = 0
  for (const bracket of ['{', '[']) {
    for (let i = text.indexOf(bracket); i !== -1; i = text.indexOf(bracket, i + 1)) if (++n > max) return n
  }
  return n
}

/**
 * True when JSON text opens more than `max` arrays or objects inside each other, found without
 * parsing: JSON.parse spent milliseconds on one 60 KB frame nested 30,000 deep before the schema
 * refused it. Brackets inside strings do not count.
 */
export function jsonNestsDeeperThan(text: string, max: number): boolean {
  // Each level takes at least two characters; and no more openings in all than `max` (counted by
  // the engine's own search, which almost every frame ends at) cannot nest deeper.
  if (text.length <= 2 * max || openings(text, max) <= max) return false
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 0x5c) i++
      else if (c === 0x22) inString = false
    } else if (c === 0x22) inString = true
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true
    } else if (c === 0x5d || c === 0x7d) depth--
  }
  return false
}

/**
 * Decodes a client frame as Bun hands it over: text frames are JSON, binary frames MessagePack,
 * whatever the connection's own format (a client may switch per frame). Every string field it
 * returns is well-formed Unicode, in both framings.
 */
export function decodeFrame(raw: string | Uint8Array): Decoded {
  if (typeof raw === 'string') {
    if (jsonNestsDeeperThan(raw, MAX_FRAME_DEPTH)) return { ok: false, code: 'invalid_frame', message: `the frame nests deeper than ${MAX_FRAME_DEPTH} levels` }
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
