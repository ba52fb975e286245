import { TOKEN, type SearchTerm } from '../db/search'

/** The longest query accepted, in characters (Unicode code points). */
export const MAX_QUERY_LENGTH = 200

/** A query the user typed, parsed; or why it cannot be searched for. */
export type ParsedQuery = { terms: SearchTerm[] } | { error: string }

const SPACE = /\s/u

/**
 * Parses what a user types into a search box: words (all required), `"quoted phrases"` (words
 * in that order), and a `*` right after a word or a phrase for a prefix (`mess*`). Anything else
 * is text: `AND`, `OR`, `-`, `:` or `(` are searched for as words or skipped as punctuation, never
 * obeyed. A word of punctuation alone (`!!!`) is skipped, as both indexes skip it.
 */
export function parseSearchQuery(q: string): ParsedQuery {
  if ([...q].length > MAX_QUERY_LENGTH) return { error: `the query is longer than ${MAX_QUERY_LENGTH} characters` }
  const terms: SearchTerm[] = []
  let i = 0
  while (i < q.length) {
    if (SPACE.test(q[i])) {
      i++
      continue
    }
    let text: string
    if (q[i] === '"') {
      const close = q.indexOf('"', i + 1)
      if (close < 0) return { error: 'a quote (") is not closed: put a phrase between two quotes, "like this"' }
      text = q.slice(i + 1, close)
      i = close + 1
      if (!text.match(TOKEN)) return { error: 'a phrase between quotes has no words in it' }
    } else {
      const start = i
      while (i < q.length && !SPACE.test(q[i]) && q[i] !== '"' && q[i] !== '*') i++
      text = q.slice(start, i)
    }
    const prefix = q[i] === '*'
    if (prefix) i++
    if (prefix && i < q.length && !SPACE.test(q[i])) return { error: `a * goes only at the end of a word, as in mess* (got ${q.slice(0, i + 1).split(SPACE).pop()})` }
    const tokens = text.match(TOKEN) ?? []
    if (prefix && !tokens.length) return { error: 'a * must follow a word, as in mess*' }
    // Composed (NFC), as keyboards write text: PostgreSQL compares the characters as they are.
    if (tokens.length) terms.push({ tokens: tokens.map((t) => t.normalize('NFC').toLowerCase()), prefix })
  }
  if (!terms.length) return { error: q.trim() ? 'the query has no letters or digits to search for' : 'the query is empty' }
  return { terms }
}
