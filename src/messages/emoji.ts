/** A fully-qualified emoji (Unicode's RGI set: flags, keycaps, skin tones and ZWJ sequences included). */
const ONE_EMOJI = /^\p{RGI_Emoji}$/v
const VARIATION_SELECTOR_16 = '\uFE0F'

/**
 * The reaction as stored: exactly one emoji, fully qualified (a bare '❤' becomes '❤️', as keyboards
 * differ), or undefined for anything else (text, two emoji, an emoji with trailing text).
 */
export function reactionEmoji(text: string): string | undefined {
  if (ONE_EMOJI.test(text)) return text
  const qualified = text + VARIATION_SELECTOR_16
  return ONE_EMOJI.test(qualified) ? qualified : undefined
}

/** Most different emoji one user may put on one message: a flood cannot grow storage past it. */
export const MAX_REACTIONS_PER_USER = 20
