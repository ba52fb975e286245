import { t, type Static } from 'elysia'
import { Type } from '@sinclair/typebox'
import { urlInteger } from '../http/validation'

import { AttachmentId } from '../protocol/attachment'

export { AttachmentId, AttachmentView, attachmentView } from '../protocol/attachment'

/** Who uploads or downloads: under AUTH=jwt the token's user (and `user_id`, if given, must be it). */
export const ActingUserQuery = t.Object({
  user_id: t.Optional(urlInteger({ minimum: 1, description: "The acting user (AUTH=none); under AUTH=jwt, the token's" })),
})

/** The path of one attachment. */
export const AttachmentParams = t.Object({ id: AttachmentId })
