// The REST calls the test page makes. Shapes come from the server's TypeBox models (types only).
import type { Static } from '@sinclair/typebox'
import type { CreateGroupBody, GroupView } from '../src/groups/model'
import type { ConversationList, HistoryPage, SearchPage } from '../src/messages/model'
import type { UserPage, UserView } from '../src/users/model'
import type { Target } from '../src/client'

export type Conversations = Static<typeof ConversationList>
export type Page = Static<typeof HistoryPage>
export type User = Static<typeof UserView>
export type Users = Static<typeof UserPage>
export type Group = Static<typeof GroupView>
export type Search = Static<typeof SearchPage>
export type SearchHit = Search['results'][number]

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

async function request<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' }
  if (bearer) headers.authorization = `Bearer ${bearer}`
  if (body !== undefined) headers['content-type'] = 'application/json'
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
  const answer = res.status === 204 ? null : await res.json().catch(() => null)
  if (!res.ok) throw new HttpError(res.status, answer?.error?.code ?? 'http_error', answer?.error?.message ?? `HTTP ${res.status}`)
  return answer as T
}

export const rest = {
  user: (id: number) => request<User>('GET', `/users/${id}`),
  /** A page of the user directory, in id order; `q` searches usernames and display names. */
  users(q: string, after?: number, limit = 20): Promise<Users> {
    const query = new URLSearchParams({ limit: String(limit) })
    if (q) query.set('q', q)
    if (after !== undefined) query.set('after', String(after))
    return request<Users>('GET', `/users?${query}`)
  },
  vapidPublicKey: () => request<{ public_key: string }>('GET', '/push/vapid-public-key'),
  /** Stores the browser's PushSubscription (its toJSON) for the user. */
  subscribePush: (userId: number, subscription: PushSubscriptionJSON) => request<{ endpoint: string }>('POST', `/push/subscriptions?user_id=${userId}`, subscription),
  group: (id: number) => request<Group>('GET', `/groups/${id}`),
  createGroup: (body: Static<typeof CreateGroupBody>) => request<Group>('POST', '/groups', body),
  conversations: (userId: number) => request<Conversations>('GET', `/messages/conversations/${userId}`),
  /** A page of a conversation, newest first page when `before` is not given. */
  history(userId: number, target: Target, before?: number, limit = 30): Promise<Page> {
    const q = new URLSearchParams({ user_id: String(userId), limit: String(limit) })
    if (target.group_id !== undefined) q.set('group_id', String(target.group_id))
    else q.set('other_user_id', String(target.recipient_id))
    if (before !== undefined) q.set('before', String(before))
    return request<Page>('GET', `/messages?${q}`)
  },
  /** Messages of the user's conversations matching `q`, newest first; `before` pages back. */
  search(userId: number, q: string, before?: number, limit = 20): Promise<Search> {
    const query = new URLSearchParams({ user_id: String(userId), q, limit: String(limit) })
    if (before !== undefined) query.set('before', String(before))
    return request<Search>('GET', `/messages/search?${query}`)
  },
}
