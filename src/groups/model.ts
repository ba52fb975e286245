import { t } from 'elysia'
import { Type } from '@sinclair/typebox'
import { urlInteger } from '../http/validation'

export const CreateGroupBody = t.Object(
  {
    name: t.String({ minLength: 1, maxLength: 128 }),
    member_ids: t.Array(Type.Integer({ minimum: 1 }), { minItems: 1, maxItems: 10000, description: 'Members, the creator included' }),
    created_by: t.Optional(Type.Integer({ minimum: 1, description: 'The creating user; must be one of member_ids' })),
  },
  { additionalProperties: false, examples: [{ name: 'weekend plans', member_ids: [1, 2, 3], created_by: 1 }] },
)

export const GroupView = t.Object(
  {
    id: Type.Integer(),
    name: t.String(),
    created_by: t.Union([Type.Integer(), t.Null()]),
    created_at: t.String({ format: 'date-time' }),
    member_ids: t.Array(Type.Integer()),
  },
  { examples: [{ id: 1, name: 'everyone', created_by: 1, created_at: '2026-12-01T09:30:00.000Z', member_ids: [1, 2, 3] }] },
)

export const GroupParams = t.Object({ id: urlInteger({ minimum: 1 }) })
export const MemberParams = t.Object({ id: urlInteger({ minimum: 1 }), user_id: urlInteger({ minimum: 1 }) })
export const AddMemberBody = t.Object({ user_id: Type.Integer({ minimum: 1, description: 'The user to add' }) }, { additionalProperties: false, examples: [{ user_id: 3 }] })
