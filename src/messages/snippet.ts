import { TOKEN, type SearchTerm } from '../db/search'

/** A message longer than this (in UTF-16 units) is cut to about this much around its first match. */
export const SNIPPET_LENGTH = 160
/** How much of the text before the first match the cut keeps. */
const LEAD = 50

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }
const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ESCAPES[c])

/** Case and accents set aside, as the SQLite index sets them aside (remove_diacritics 2). */
const fold = (s: string) => s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase()

/**
 * The search result's `snippet`: the message text HTML-escaped, with every word the query names
 * wrapped in `<mark>…</mark>` (a prefix marks the words it begins), safe to set as innerHTML. A long
 * message is cut at word boundaries around its first match, with `…` where text was left out.
 * Made here rather than by either database, so both stores answer the same snippet.
 */
export function snippet(body: string, terms: SearchTerm[]): string {
  const exact = new Set<string>()
  const prefixes: string[] = []
  for (const term of terms)
    term.tokens.forEach((token, i) => (term.prefix && i === term.tokens.length - 1 ? prefixes.push(fold(token)) : exact.add(fold(token))))
  const words = [...body.matchAll(TOKEN)].map((m) => {
    const folded = fold(m[0])
    return { start: m.index, end: m.index + m[0].length, hit: exact.has(folded) || prefixes.some((p) => folded.startsWith(p)) }
  })
  let from = 0
  let to = body.length
  if (body.length > SNIPPET_LENGTH) {
    const anchor = words.find((w) => w.hit) ?? words[0]
    if (anchor && anchor.start > LEAD) from = words.find((w) => w.start >= anchor.start - LEAD)!.start
    if (from + SNIPPET_LENGTH < body.length) {
      const last = words.filter((w) => w.end <= from + SNIPPET_LENGTH).pop()
      to = Math.max(last?.end ?? 0, anchor?.end ?? 0) || from + SNIPPET_LENGTH
    }
  }
  let out = from > 0 ? '…' : ''
  let at = from
  for (const w of words) {
    if (w.start < from || w.end > to) continue
    if (!w.hit) continue
    out += `${escapeHtml(body.slice(at, w.start))}<mark>${escapeHtml(body.slice(w.start, w.end))}</mark>`
    at = w.end
  }
  out += escapeHtml(body.slice(at, to))
  return to < body.length ? `${out}…` : out
}
