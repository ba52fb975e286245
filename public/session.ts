// Who this browser connects as, kept across reloads in localStorage until the person forgets it.
import type { Format } from '../src/client'

export interface Session {
  userId: number
  format: Format
  /** Under AUTH=jwt: stays in this browser's storage, readable by scripts of this origin, until forgotten. */
  token?: string
}

const KEY = 'switchboard.session'

/** The remembered session, or null (nothing stored, storage disabled, or a value this page did not write). */
export function loadSession(): Session | null {
  try {
    const saved = JSON.parse(localStorage.getItem(KEY) ?? 'null')
    if (!Number.isInteger(saved?.userId) || saved.userId < 1 || (saved.format !== 'json' && saved.format !== 'msgpack')) return null
    return { userId: saved.userId, format: saved.format, ...(typeof saved.token === 'string' && saved.token ? { token: saved.token } : {}) }
  } catch {
    return null
  }
}

/** Remembers the session; a browser that refuses storage just does not remember. */
export function saveSession(session: Session): void {
  try {
    localStorage.setItem(KEY, JSON.stringify(session))
  } catch {}
}

export function forgetSession(): void {
  try {
    localStorage.removeItem(KEY)
  } catch {}
}
