// The REST calls the test page makes. Shapes come from the server's TypeBox models (types only).
import type { Static } from '@sinclair/typebox'
import type { ConversationList, HistoryPage } from '../src/messages/model'
import type { Target } from '../src/client'

export type Conversations = Static<typeof ConversationList>
export type Page = Static<typeof HistoryPage>

/** An HTTP error with the server's error code. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

let bearer: string | undefined

/** The token for REST calls, when the server requires one. */
export function useToken(token: string | undefined): void {
  bearer = token || undefined
}

async function getJson<T>(path: string): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' }
  if (bearer) headers.authorization = `Bearer ${bearer}`
  const res = await fetch(path, { headers })
  const body = await res.json().catch(() => null)
  if (!res.ok) throw new HttpError(res.status, body?.error?.code ?? 'http_error', body?.error?.message ?? `HTTP ${res.status}`)
  return body as T
}

export const rest = {
  user: (id: number) => getJson<{ id: number; username: string; display_name: string | null }>(`/users/${id}`),
  group: (id: number) => getJson<{ id: number; name: string; member_ids: number[] }>(`/groups/${id}`),
  conversations: (userId: number) => getJson<Conversations>(`/messages/conversations/${userId}`),
  /** A page of a conversation, newest first page when `before` is not given. */
  history(userId: number, target: Target, before?: number, limit = 30): Promise<Page> {
    const q = new URLSearchParams({ user_id: String(userId), limit: String(limit) })
    if (target.group_id !== undefined) q.set('group_id', String(target.group_id))
    else q.set('other_user_id', String(target.recipient_id))
    if (before !== undefined) q.set('before', String(before))
    return getJson<Page>(`/messages?${q}`)
  },
}
