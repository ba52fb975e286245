// What a user types into the search box, as the stores receive it, and the snippet they are shown.
import { describe, expect, test } from 'bun:test'
import { fts5Match, tsquery } from '../../src/db/search'
import { parseSearchQuery } from '../../src/messages/search-query'
import { snippet } from '../../src/messages/snippet'

const terms = (q: string) => {
  const parsed = parseSearchQuery(q)
  if ('error' in parsed) throw new Error(parsed.error)
  return parsed.terms
}

describe('parseSearchQuery', () => {
  test.each([
    ['hello', [{ tokens: ['hello'], prefix: false }]],
    ['  Hello   WORLD ', [{ tokens: ['hello'], prefix: false }, { tokens: ['world'], prefix: false }]],
    ['mess*', [{ tokens: ['mess'], prefix: true }]],
    ['"hello world" again', [{ tokens: ['hello', 'world'], prefix: false }, { tokens: ['again'], prefix: false }]],
    ['"hello wor"*', [{ tokens: ['hello', 'wor'], prefix: true }]],
    // Punctuation splits words as the indexes split them: a word with an apostrophe is a phrase.
    ["don't", [{ tokens: ['don', 't'], prefix: false }]],
    ['café Привет 日本*', [{ tokens: ['café'], prefix: false }, { tokens: ['привет'], prefix: false }, { tokens: ['日本'], prefix: true }]],
    // Operators are words, or punctuation, never operators.
    ['cats OR dogs', [{ tokens: ['cats'], prefix: false }, { tokens: ['or'], prefix: false }, { tokens: ['dogs'], prefix: false }]],
    ['-cats body:dogs (NEAR) ^x', [{ tokens: ['cats'], prefix: false }, { tokens: ['body', 'dogs'], prefix: false }, { tokens: ['near'], prefix: false }, { tokens: ['x'], prefix: false }]],
    ['hello !!! ', [{ tokens: ['hello'], prefix: false }]],
    // An accent typed as a combining mark is composed: é as one character, as stored text has it.
    ['e\u0301cole', [{ tokens: ['\u00e9cole'], prefix: false }]],
  ])('%p', (q, expected) => {
    expect(parseSearchQuery(q)).toEqual({ terms: expected })
  })

  test.each([
    ['', 'the query is empty'],
    ['   ', 'the query is empty'],
    ['!!! ...', 'the query has no letters or digits to search for'],
    ['"hello world', 'a quote (") is not closed'],
    ['say "hi" "there', 'a quote (") is not closed'],
    ['*', 'a * must follow a word'],
    ['hello *', 'a * must follow a word'],
    ['""', 'a phrase between quotes has no words in it'],
    ['*mess', 'a * goes only at the end of a word'],
    ['me*ss', 'a * goes only at the end of a word'],
    ['mess**', 'a * goes only at the end of a word'],
    ['x'.repeat(201), 'the query is longer than 200 characters'],
    ['é'.repeat(201), 'the query is longer than 200 characters'],
  ])('refused: %p', (q, message) => {
    const parsed = parseSearchQuery(q)
    expect('error' in parsed && parsed.error).toStartWith(message)
  })

  test('200 characters are accepted, counted as code points', () => {
    expect('terms' in parseSearchQuery('😀a'.repeat(66) + 'ab')).toBe(true)
  })
})

describe('the translations only ever quote tokens', () => {
  test('FTS5', () => {
    expect(fts5Match(terms('"hello world" mess* x'))).toBe('"hello world" AND "mess" * AND "x"')
  })
  test('to_tsquery', () => {
    expect(tsquery(terms('"hello world" mess* x "a b"*'))).toBe("('hello' <-> 'world') & 'mess':* & 'x' & ('a' <-> 'b':*)")
  })
})

describe('snippet', () => {
  test('marks every matched word, the rest HTML-escaped', () => {
    expect(snippet('Hello <b>world</b> & "hello" again', terms('hello'))).toBe('<mark>Hello</mark> &lt;b&gt;world&lt;/b&gt; &amp; &quot;<mark>hello</mark>&quot; again')
  })
  test('a prefix marks the words it begins; accents and case do not matter', () => {
    expect(snippet('Messages, a mess, no MESSIAH; Café', terms('mess* cafe'))).toBe('<mark>Messages</mark>, a <mark>mess</mark>, no <mark>MESSIAH</mark>; <mark>Café</mark>')
  })
  test('a long message is cut around its first match, at word boundaries', () => {
    const body = `${'early words '.repeat(20)}the needle is here ${'late words '.repeat(20)}`
    const s = snippet(body, terms('needle'))
    expect(s).toStartWith('…')
    expect(s).toEndWith('…')
    expect(s).toContain('the <mark>needle</mark> is here')
    expect(s.replace(/<\/?mark>/g, '').length).toBeLessThanOrEqual(162)
    expect(s).toMatch(/^…(early|words) /)
    expect(s).toMatch(/ (late|words)…$/)
  })
  test('a short message is whole', () => {
    expect(snippet('日本語を勉強しています', terms('日本*'))).toBe('<mark>日本語を勉強しています</mark>')
  })
})
