import type { Store } from '../db/store'
import type { MessageView } from '../protocol/message'
import { reactionSummary } from '../protocol/views'

/** Adds each view's reactions as the viewer sees them (history pages and threads). */
export async function withReactions(store: Store, views: MessageView[], viewerId: number): Promise<MessageView[]> {
  if (!views.length) return views
  const reactions = await store.reactionsOf(views.map((v) => v.id))
  for (const v of views) {
    const r = reactions.get(v.id)
    if (r) v.reactions = reactionSummary(r, viewerId)
  }
  return views
}
