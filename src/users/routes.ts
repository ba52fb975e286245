import { Elysia } from 'elysia'
import { ConflictError, type Store, type User } from '../db/store'
import { AppError } from '../http/errors'
import { described, errorResponse } from '../http/responses'
import type { Directory } from '../messages/directory'
import { CreateUserBody, ListUsersQuery, UserPage, UserParams, UserView } from './model'

/** REST: creating, listing and reading users. */
export function userRoutes(deps: { store: Store; directory: Directory; isOnline: (id: number) => boolean }) {
  const view = (u: User) => ({
    id: u.id,
    username: u.username,
    display_name: u.displayName,
    created_at: new Date(u.createdAt).toISOString(),
    online: deps.isOnline(u.id),
  })
  return new Elysia({ name: 'users' })
    .post(
      '/users',
      async ({ body, status }) => {
        try {
          const user = await deps.store.createUser({ username: body.username, displayName: body.display_name })
          deps.directory.rememberUser(user.id)
          return status(201, view(user))
        } catch (e) {
          if (e instanceof ConflictError) throw new AppError(409, 'username_taken', e.message)
          throw e
        }
      },
      {
        body: CreateUserBody,
        response: {
          201: described(UserView, 'The new user'),
          409: errorResponse('The username is taken, in this or another case', ['username_taken', 'username "alice" is taken']),
        },
        detail: { summary: 'Create a user', description: "Usernames are unique without regard to case: 'Alice' takes 'alice'.", tags: ['users'] },
      },
    )
    .get(
      '/users',
      async ({ query }) => {
        // One extra row says whether another page exists.
        const rows = await deps.store.listUsers({ query: query.q, after: query.after, limit: query.limit + 1 })
        const has_more = rows.length > query.limit
        const users = has_more ? rows.slice(0, query.limit) : rows
        return { users: users.map(view), has_more, next_cursor: has_more ? { after: users[users.length - 1].id } : null }
      },
      {
        query: ListUsersQuery,
        response: { 200: described(UserPage, 'A page of users in id order, and the cursor of the next') },
        detail: { summary: 'List users', description: 'In id order, `limit` at a time; `q` searches usernames and display names.', tags: ['users'] },
      },
    )
    .get(
      '/users/:id',
      async ({ params }) => {
        const user = await deps.store.getUser(params.id)
        if (!user) throw new AppError(404, 'unknown_user', `user ${params.id} does not exist`)
        return view(user)
      },
      {
        params: UserParams,
        response: { 200: described(UserView, 'The user, and whether they are online'), 404: errorResponse('No such user', ['unknown_user', 'user 99 does not exist']) },
        detail: { summary: 'Get a user', tags: ['users'] },
      },
    )
}
