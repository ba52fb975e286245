import { Elysia } from 'elysia'
import { described, errorResponse } from '../http/responses'
import { SearchPage, SearchQuery } from './model'
import type { MessageSearch } from './search'

/** REST: full-text search over the messages a user may read. */
export function searchRoutes(search: MessageSearch) {
  return new Elysia({ name: 'message-search' }).get(
    '/messages/search',
    ({ query }) =>
      search.search(query.user_id, query.q, { other_user_id: query.other_user_id, group_id: query.group_id }, { before: query.before, limit: query.limit }),
    {
      query: SearchQuery,
      response: {
        200: described(SearchPage, 'Matching messages, newest first, each with a highlighted snippet, and the cursor of the next page'),
        400: errorResponse(
          'A query that cannot be searched for, or both other_user_id and group_id',
          ['invalid_query', 'a quote (") is not closed: put a phrase between two quotes, "like this"'],
          ['invalid_query', 'a * must follow a word, as in mess*'],
          ['invalid_query', 'the query is empty'],
          ['invalid_query', 'the query is longer than 200 characters'],
          ['invalid_query', 'give at most one of other_user_id or group_id'],
        ),
        403: errorResponse("AUTH=jwt: user_id is not the token's user; or the user is not in the group", ['forbidden', 'user_id is 2, but the token is for user 1'], ['not_a_member', 'user 4 is not a member of group 1']),
        404: errorResponse('No such user or group', ['unknown_user', 'user 99 does not exist'], ['unknown_group', 'group 42 does not exist']),
      },
      detail: {
        summary: 'Search messages',
        description:
          'Messages of the direct conversations of user_id and of the groups they are a member of now, matching every word of q, newest first; narrowed to one conversation by other_user_id or group_id. Words are split on anything that is not a letter, digit or mark; runs of Chinese or Japanese characters are not cut into words (日本* finds 日本語, 日本 does not). Paged with next_cursor.before.',
        tags: ['messages'],
      },
    },
  )
}
