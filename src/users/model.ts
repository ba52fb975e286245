import { t } from 'elysia'
import { Type } from '@sinclair/typebox'

export const CreateUserBody = t.Object(
  {
    username: t.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.-]+$', description: 'Unique; letters, digits, _ . -' }),
    display_name: t.Optional(t.String({ minLength: 1, maxLength: 128 })),
  },
  { additionalProperties: false },
)

export const UserView = t.Object({
  id: Type.Integer(),
  username: t.String(),
  display_name: t.Union([t.String(), t.Null()]),
  created_at: t.String({ format: 'date-time' }),
  online: t.Boolean(),
})

export const UserParams = t.Object({ id: t.Integer({ minimum: 1 }) })

/** GET /users: the user directory, in id order. */
export const ListUsersQuery = t.Object({
  q: t.Optional(t.String({ minLength: 1, maxLength: 64, description: 'Only users whose username or display name contains this, ignoring case' })),
  after: t.Optional(t.Integer({ minimum: 0, description: 'Only users with a larger id: next_cursor.after of the previous page' })),
  limit: t.Integer({ minimum: 1, maximum: 100, default: 50 }),
})

export const UserPage = t.Object({
  users: t.Array(UserView),
  has_more: t.Boolean({ description: 'More users match after this page' }),
  next_cursor: t.Union([t.Object({ after: Type.Integer() }), t.Null()], { description: 'Query parameters for the next page (with the same q)' }),
})
