/**
 * Why a chat message is over MAX_MESSAGE_LENGTH, or null when it is not. The limit counts
 * Unicode code points, so an emoji outside the Basic Multilingual Plane is one character, not the
 * two UTF-16 code units JavaScript's `length` counts. The same rule on REST, the WebSocket and in
 * the client library; imports nothing, so the browser bundle can hold it.
 */
export function lengthExceeded(text: string, max: number): string | null {
  // Code points never outnumber code units: a text within the limit in units needs no counting.
  if (text.length <= max) return null
  // Each surrogate pair is two units and one code point: the text is within the limit once
  // `length - max` pairs are found, and the count stops there.
  const needed = text.length - max
  let pairs = 0
  for (let i = 0; i < text.length - 1; i++) {
    const unit = text.charCodeAt(i)
    if (unit < 0xd800 || unit > 0xdbff) continue
    const next = text.charCodeAt(i + 1)
    if (next < 0xdc00 || next > 0xdfff) continue
    if (++pairs >= needed) return null
    i++
  }
  return `message is longer than ${max} characters (Unicode code points)`
}
