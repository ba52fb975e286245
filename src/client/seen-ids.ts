/**
 * The most recent ids (message ids, or event seqs) seen, bounded: enough to drop a repeat from a
 * catch-up overlap or a resend after a device died before confirming.
 */
export class SeenIds {
  private ids = new Set<number>()
  private order: number[] = []

  constructor(private readonly capacity = 5000) {}

  /** Records `id`; false when it was already there (a duplicate). */
  add(id: number): boolean {
    if (this.ids.has(id)) return false
    this.ids.add(id)
    this.order.push(id)
    if (this.order.length > this.capacity) this.ids.delete(this.order.shift()!)
    return true
  }

  has(id: number): boolean {
    return this.ids.has(id)
  }
}
