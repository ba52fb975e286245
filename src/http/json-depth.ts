/** Deepest nesting a REST body may have: the API's own bodies nest two levels. */
export const MAX_BODY_DEPTH = 32

/**
 * True when `value` nests arrays or objects more than `max` levels deep. Iterative, so it is safe
 * on any depth; it stops at the first container beyond `max`, so a hostile body costs little.
 */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  if (typeof value !== 'object' || value === null) return false
  const pending: [object, number][] = [[value, 1]]
  while (pending.length > 0) {
    const [container, depth] = pending.pop()!
    if (depth > max) return true
    for (const child of Array.isArray(container) ? container : Object.values(container))
      if (typeof child === 'object' && child !== null) pending.push([child, depth + 1])
  }
  return false
}
