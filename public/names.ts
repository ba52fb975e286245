// Display names of users and groups, asked of the server once each and cached; whoever shows a name
// re-renders when one is learned.
import { rest } from './rest'

export class Names {
  private users = new Map<number, string>()
  private groups = new Map<number, string>()
  /** Lookups made (or under way) since the last reset: a failed one is not repeated on every render. */
  private asked = new Set<string>()
  private changeQueued = false
  private me = 0

  constructor(private readonly onChange: () => void) {}

  /** A new user or token: what they may look up differs, so lookups are tried again. */
  reset(me: number): void {
    this.me = me
    this.asked.clear()
  }

  /** A user's display name, else their username; "user N" only until it is learned. */
  user(id: number): string {
    return this.users.get(id) ?? `user ${id}`
  }

  /** As `user`, with "(you)" for the person using the page. */
  person(id: number): string {
    return id === this.me ? `${this.user(id)} (you)` : this.user(id)
  }

  group(id: number): string {
    return this.groups.get(id) ?? `group ${id}`
  }

  rememberUser(u: { id: number; username: string; display_name: string | null }): void {
    this.set(this.users, u.id, u.display_name ?? u.username)
  }

  rememberGroup(g: { id: number; name: string }): void {
    this.set(this.groups, g.id, g.name)
  }

  learnUser(id: number): void {
    if (this.users.has(id) || !this.ask(`u:${id}`)) return
    rest.user(id).then((u) => this.rememberUser(u), () => {})
  }

  learnGroup(id: number): void {
    if (this.groups.has(id) || !this.ask(`g:${id}`)) return
    rest.group(id).then((g) => this.rememberGroup(g), () => {})
  }

  private ask(key: string): boolean {
    if (this.asked.has(key)) return false
    this.asked.add(key)
    return true
  }

  /** Names learned within a few milliseconds of each other (one page of lookups) re-render once. */
  private set(map: Map<number, string>, id: number, name: string): void {
    if (map.get(id) === name) return
    map.set(id, name)
    if (this.changeQueued) return
    this.changeQueued = true
    setTimeout(() => {
      this.changeQueued = false
      this.onChange()
    }, 30)
  }
}
