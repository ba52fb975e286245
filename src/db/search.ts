/**
 * Full-text search as the stores see it: a query already parsed into terms (src/messages/search-query.ts),
 * and its translation into each database's own syntax. Only tokens of letters, digits and marks
 * ever reach FTS5 or to_tsquery, each quoted, so nothing a user types can be read as an operator.
 */

/** One term of a query: consecutive tokens (one for a word, several for a phrase); every term must match. */
export interface SearchTerm {
  /** Tokens of Unicode letters, numbers and combining marks only (TOKEN below). */
  tokens: string[]
  /** The last token matches any word it begins (`mess*`). */
  prefix: boolean
}

/** What a store searches: the user's readable conversations (or one of them), newest first. */
export interface SearchRequest {
  userId: number
  terms: SearchTerm[]
  /** Only this conversation; it must still be one the user reads. */
  conv?: string
  /** Only messages with a smaller id (the next page). */
  before?: number
  limit: number
}

/**
 * What both indexes count as a word: FTS5's unicode61 tokenizer keeps letters, numbers and marks
 * and splits on everything else; PostgreSQL's parser agrees on these characters.
 */
export const TOKEN = /[\p{L}\p{N}\p{M}]+/gu

/** The FTS5 MATCH expression: each term a quoted phrase (`"mess" *` for a prefix), all of them required. */
export function fts5Match(terms: SearchTerm[]): string {
  return terms.map((t) => `"${t.tokens.join(' ').replaceAll('"', '""')}"${t.prefix ? ' *' : ''}`).join(' AND ')
}

/** The to_tsquery text: tokens of a term adjacent (`<->`), the last one `:*` for a prefix, terms joined by `&`. */
export function tsquery(terms: SearchTerm[]): string {
  return terms
    .map((t) => {
      const quoted = t.tokens.map((token) => `'${token.replaceAll("'", "''")}'`)
      if (t.prefix) quoted[quoted.length - 1] += ':*'
      return quoted.length > 1 ? `(${quoted.join(' <-> ')})` : quoted[0]
    })
    .join(' & ')
}
