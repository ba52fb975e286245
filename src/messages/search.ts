import { directConv, groupConv, type Store, type StoredMessage } from '../db/store'
import { badRequest, forbidden, notFound } from '../http/errors'
import type { Directory } from './directory'
import type { MessageView } from '../protocol/message'
import { parseSearchQuery } from './search-query'
import { snippet } from './snippet'
import { groupView, toView } from '../protocol/views'

export interface SearchDeps {
  store: Store
  directory: Directory
}

export interface SearchPage {
  results: { message: MessageView; snippet: string }[]
  has_more: boolean
  next_cursor: { before: number } | null
}

/** Full-text search over the messages a user may read, answered as history answers them. */
export class MessageSearch {
  constructor(private readonly deps: SearchDeps) {}

  /** A page of `userId`'s messages matching `q`, newest first, optionally in one conversation. */
  async search(
    userId: number,
    q: string,
    within: { other_user_id?: number; group_id?: number },
    page: { before?: number; limit: number },
  ): Promise<SearchPage> {
    const { store, directory } = this.deps
    if (!(await directory.userExists(userId))) throw notFound('unknown_user', `user ${userId} does not exist`)
    if (within.other_user_id !== undefined && within.group_id !== undefined)
      throw badRequest('invalid_query', 'give at most one of other_user_id or group_id')
    const parsed = parseSearchQuery(q)
    if ('error' in parsed) throw badRequest('invalid_query', parsed.error)
    let conv: string | undefined
    if (within.other_user_id !== undefined) {
      if (!(await directory.userExists(within.other_user_id))) throw notFound('unknown_user', `user ${within.other_user_id} does not exist`)
      conv = directConv(userId, within.other_user_id)
    } else if (within.group_id !== undefined) {
      const members = await directory.membersOf(within.group_id)
      if (!members) throw notFound('unknown_group', `group ${within.group_id} does not exist`)
      if (!members.has(userId)) throw forbidden('not_a_member', `user ${userId} is not a member of group ${within.group_id}`)
      conv = groupConv(within.group_id)
    }
    // One extra row says whether another page exists.
    const rows = await store.searchMessages({ userId, terms: parsed.terms, conv, before: page.before, limit: page.limit + 1 })
    const has_more = rows.length > page.limit
    const shown = has_more ? rows.slice(0, page.limit) : rows
    const views = await this.views(userId, shown)
    return {
      results: shown.map((m, i) => ({ message: views[i], snippet: snippet(m.body, parsed.terms) })),
      has_more,
      next_cursor: has_more ? { before: shown[shown.length - 1].id } : null,
    }
  }

  /** The messages as history shows them to `userId`: a group message's status and read count from its read marks. */
  private async views(userId: number, rows: StoredMessage[]): Promise<MessageView[]> {
    const marks = new Map<number, Map<number, number>>()
    for (const m of rows) if (m.groupId !== null && !marks.has(m.groupId)) marks.set(m.groupId, await this.deps.store.readMarks(m.groupId))
    return rows.map((m) => (m.groupId !== null ? groupView(m, userId, marks.get(m.groupId)!) : toView(m)))
  }
}
