/** A small typed event emitter; a listener that throws does not stop the others. */
export class Emitter<Events extends object> {
  private listeners = new Map<keyof Events, Set<(value: any) => void>>()

  /** Adds a listener; returns the function that removes it. */
  on<K extends keyof Events>(name: K, listener: (value: Events[K]) => void): () => void {
    let set = this.listeners.get(name)
    if (!set) this.listeners.set(name, (set = new Set()))
    set.add(listener)
    return () => set.delete(listener)
  }

  /** Resolves with the next event of this name. */
  once<K extends keyof Events>(name: K, match: (value: Events[K]) => boolean = () => true): Promise<Events[K]> {
    return new Promise((resolve) => {
      const off = this.on(name, (value) => {
        if (!match(value)) return
        off()
        resolve(value)
      })
    })
  }

  protected emit<K extends keyof Events>(name: K, value: Events[K]): void {
    const set = this.listeners.get(name)
    if (!set) return
    // A copy: a listener added by a listener hears the next event, not this one (a Set's iterator
    // would visit it now, and one that adds itself again would loop for ever).
    for (const listener of [...set]) {
      try {
        listener(value)
      } catch (error) {
        // An application bug must not break the connection logic that called emit.
        console.error(`switchboard client: a '${String(name)}' listener threw`, error)
      }
    }
  }
}
