/**
 * Makes the string fields of a decoded JSON frame or body well-formed Unicode, in place: each
 * lone surrogate (half of a UTF-16 pair, which JSON's \u escapes can spell) becomes U+FFFD.
 *
 * UTF-8 cannot carry a lone surrogate, so without this such a string would be one thing in memory
 * and another once encoded: a client_id unlike its stored self (its resend stored again), a body
 * delivered live unlike its history. MessagePack strings are UTF-8 and arrive well-formed already
 * (src/protocol/msgpack.ts), so every transport and framing stores what it was sent. Length is
 * kept (one code unit for one), so every limit means what it did.
 *
 * Only top-level fields: no frame or body accepts a string below that (the schemas refuse one).
 */
export function wellFormedFields<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value
  const fields = value as Record<string, unknown>
  for (const key in fields) {
    const field = fields[key]
    if (typeof field === 'string' && !field.isWellFormed()) fields[key] = field.toWellFormed()
  }
  return value
}
