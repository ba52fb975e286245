/** The conversation key of a direct message between two users, the same both ways. */
export function directConv(a: number, b: number): string {
  return a < b ? `d:${a}:${b}` : `d:${b}:${a}`
}

/** The conversation key of a group. */
export function groupConv(groupId: number): string {
  return `g:${groupId}`
}
