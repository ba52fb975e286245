import { fileTypeFromBuffer } from 'file-type'

/** How many leading bytes the type is detected from (enough for office documents' first zip entries). */
export const SNIFF_BYTES = 64 * 1024

/** Images served `inline`: raster formats a browser only ever draws. Everything else is a download. */
const INLINE_TYPES: ReadonlySet<string> = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp'])

/** Images sharp reads for dimensions and a thumbnail. */
export const THUMBNAIL_TYPES: ReadonlySet<string> = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/avif', 'image/tiff'])

/**
 * The type of a file from its first bytes, never from a header or a name. Binary formats are
 * recognised by file-type; bytes that are valid UTF-8 without NUL are `text/plain`, which is also
 * what HTML, SVG and scripts are, so that nothing uploaded is ever served as markup; the rest is
 * `application/octet-stream`.
 */
export async function detectType(head: Uint8Array, complete: boolean): Promise<string> {
  const found = await fileTypeFromBuffer(head)
  if (found) return found.mime
  return isText(head, complete) ? 'text/plain' : 'application/octet-stream'
}

function isText(head: Uint8Array, complete: boolean): boolean {
  if (head.length === 0 || head.includes(0)) return false
  try {
    // A sample cut short may end inside a character: `stream` leaves that one undecided.
    new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: !complete })
    return true
  } catch {
    return false
  }
}

/** Whether `type` is on the allow-list (`image/*` style entries cover a whole family). */
export function isAllowed(type: string, allowList: readonly string[]): boolean {
  const family = type.slice(0, type.indexOf('/') + 1)
  return allowList.some((entry) => entry === type || (entry.endsWith('/*') && entry.slice(0, -1) === family))
}

/** True for images a browser may show in place; SVG, HTML and all others are sent as downloads. */
export function isInlineSafe(type: string): boolean {
  return INLINE_TYPES.has(type)
}

/** Whether messages of type `image` may carry it. */
export function isImage(type: string): boolean {
  return type.startsWith('image/')
}

/** The Content-Type a stored type is served with. */
export function servedType(type: string): string {
  return type === 'text/plain' ? 'text/plain; charset=utf-8' : type
}
