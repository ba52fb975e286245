import { t } from 'elysia'
import { Type } from '@sinclair/typebox'
import { urlInteger } from '../http/validation'

export const CreateUserBody = t.Object(
  {
    username: t.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.-]+$', error: "only letters, digits, '_', '.' and '-'", description: 'Unique; letters, digits, _ . -' }),
    display_name: t.Optional(t.String({ minLength: 1, maxLength: 128, description: 'The name shown to others' })),
  },
  { additionalProperties: false, examples: [{ username: 'dave', display_name: 'Dave' }] },
)

export const UserView = t.Object(
  {
    id: Type.Integer(),
    username: t.String(),
    display_name: t.Union([t.String(), t.Null()]),
    created_at: t.String({ format: 'date-time' }),
    online: t.Boolean(),
  },
  { examples: [{ id: 1, username: 'alice', display_name: 'Alice', created_at: '2026-12-01T09:30:00.000Z', online: true }] },
)

export const UserParams = t.Object({ id: urlInteger({ minimum: 1 }) })

/** GET /users: the user directory, in id order. */
export const ListUsersQuery = t.Object({
  q: t.Optional(t.String({ minLength: 1, maxLength: 64, description: 'Only users whose username or display name contains this, ignoring case' })),
  after: t.Optional(urlInteger({ minimum: 0, description: 'Only users with a larger id: next_cursor.after of the previous page' })),
  limit: urlInteger({ minimum: 1, maximum: 100, default: 50, description: 'Users in the page' }),
})

export const UserPage = t.Object({
  users: t.Array(UserView),
  has_more: t.Boolean({ description: 'More users match after this page' }),
  next_cursor: t.Union([t.Object({ after: Type.Integer() }), t.Null()], { description: 'Query parameters for the next page (with the same q)' }),
}, {
  examples: [{ users: [{ id: 1, username: 'alice', display_name: 'Alice', created_at: '2026-12-01T09:30:00.000Z', online: true }], has_more: true, next_cursor: { after: 1 } }],
})
