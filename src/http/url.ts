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

/** True when the request's URL (its target and Host) is one a URL parser accepts. */
export function isWellFormedUrl(url: string): boolean {
  return URL.canParse(url)
}
