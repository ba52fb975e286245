/**
 * A character that shows: anything but white space, controls, format characters and other
 * default-ignorable code points (zero-width characters, bidi controls, variation selectors,
 * Hangul fillers, tags), and the blank braille pattern, which renders as a space.
 */
const VISIBLE = /[^\p{White_Space}\p{Cc}\p{Cf}\p{Default_Ignorable_Code_Point}\u2800]/u

/**
 * True when nothing in the text would show. On every message's path, so a visible ASCII character
 * (nearly every message starts with one) decides without the regex.
 */
export function isBlank(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c > 0x20 && c < 0x7f) return false
    if (c >= 0x80) return !VISIBLE.test(text)
  }
  return true
}
