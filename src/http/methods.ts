/** The order methods are listed in an Allow header. */
const ORDER = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']

/** A route's path as a pattern: `:name` is one segment, `*` the rest; a trailing slash is optional, as in routing. */
function pattern(path: string): RegExp {
  const source = path
    .replace(/\/$/, '')
    .split('/')
    .map((segment) => (segment === '*' ? '.*' : segment.startsWith(':') ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/')
  return new RegExp(`^${source}/?$`)
}

/**
 * The methods the routes answer on a path, for the Allow header of a 405 (RFC 9110 §15.5.6): none
 * for a path no route has (a 404). HEAD is listed with GET, which answers it.
 */
export function allowedMethods(routes: readonly { method: string; path: string }[]): (path: string) => string[] {
  const patterns = routes.map((route) => ({ method: route.method.toUpperCase(), match: pattern(route.path) }))
  return (path) => {
    const methods = new Set<string>()
    for (const { method, match } of patterns) if (match.test(path)) methods.add(method)
    if (methods.has('GET')) methods.add('HEAD')
    return ORDER.filter((m) => methods.has(m))
  }
}
