/**
 * The path of a request's URL, without its query, read from the string Bun hands over: never
 * `new URL(request.url)`, which throws on a malformed Host (`x:99999`, an empty one) and must not
 * be able to fail a hook that runs after the response.
 */
export function requestPath(url: string): string {
  const scheme = url.indexOf('://')
  const slash = url.indexOf('/', scheme < 0 ? 0 : scheme + 3)
  if (slash < 0) return '/'
  const query = url.indexOf('?', slash)
  const hash = url.indexOf('#', slash)
  const end = Math.min(query < 0 ? url.length : query, hash < 0 ? url.length : hash)
  return url.slice(slash, end)
}

/**
 * Why a request's URL (its target and Host) cannot be served, or null when it can: one no URL
 * parser accepts, or one whose host is too short for Elysia's router, which looks for the path
 * from the twelfth character on (so `Host: api` over http found no route, and `Host: x` routed
 * `/public/style.css` as `/style.css`).
 */
export function unroutableUrl(url: string): string | null {
  if (!URL.canParse(url)) return 'the request target or its Host header is malformed'
  const scheme = url.indexOf('://')
  if (url.indexOf('/', scheme + 3) < 11) return 'the Host header is too short: use a host name of at least 4 characters, or host:port'
  return null
}
