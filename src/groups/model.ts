import { t } from 'elysia'
import { Type } from '@sinclair/typebox'
import { urlInteger } from '../http/validation'

export const CreateGroupBody = t.Object(
  {
    name: t.String({ minLength: 1, maxLength: 128 }),
    member_ids: t.Array(Type.Integer({ minimum: 1 }), { minItems: 1, maxItems: 10000, description: 'Members, the creator included' }),
    created_by: t.Optional(Type.Integer({ minimum: 1, description: 'The creating user; must be one of member_ids' })),
  },
  { additionalProperties: false },
)

export const GroupView = t.Object({
  id: Type.Integer(),
  name: t.String(),
  created_by: t.Union([Type.Integer(), t.Null()]),
  created_at: t.String({ format: 'date-time' }),
  member_ids: t.Array(Type.Integer()),
})

export const GroupParams = t.Object({ id: urlInteger({ minimum: 1 }) })
export const MemberParams = t.Object({ id: urlInteger({ minimum: 1 }), user_id: urlInteger({ minimum: 1 }) })
export const AddMemberBody = t.Object({ user_id: Type.Integer({ minimum: 1 }) }, { additionalProperties: false })
