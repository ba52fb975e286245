import { t, type Static } from 'elysia'
import { Type } from '@sinclair/typebox'

/** An attachment id: 22 characters of base64url (128 random bits). */
export const AttachmentId = t.String({ pattern: '^[A-Za-z0-9_-]{22}$', error: 'an attachment id: 22 letters, digits, - or _', description: 'An id POST /attachments returned' })

/** An uploaded file as the upload answers it, and as message frames, history and catch-up carry it. */
export const AttachmentView = t.Object(
  {
    id: t.String(),
    content_type: t.String({ description: 'Detected from the bytes, never taken from the client' }),
    size: Type.Integer({ description: 'Bytes' }),
    name: t.String({ description: "The uploaded file's name, as display text only (no path, no control characters)" }),
    url: t.String({ description: 'Where to download it (GET, as a member of a conversation it was sent to); images have `<url>/thumbnail`' }),
    width: t.Optional(Type.Integer({ description: 'Images: pixels' })),
    height: t.Optional(Type.Integer({ description: 'Images: pixels' })),
  },
  { examples: [{ id: 'q3Rz1mJ0TfWc5bK8xY2aLw', content_type: 'image/png', size: 48213, name: 'cat.png', url: '/attachments/q3Rz1mJ0TfWc5bK8xY2aLw', width: 640, height: 480 }] },
)
export type AttachmentView = Static<typeof AttachmentView>

/** An attachment as stored, as far as its wire view reads it (the store's `Attachment` is one). */
export interface AttachmentRecord {
  id: string
  contentType: string
  size: number
  name: string
  width: number | null
  height: number | null
}

/** The wire view of a stored attachment. */
export function attachmentView(a: AttachmentRecord): AttachmentView {
  const view: AttachmentView = { id: a.id, content_type: a.contentType, size: a.size, name: a.name, url: `/attachments/${a.id}` }
  if (a.width !== null) view.width = a.width
  if (a.height !== null) view.height = a.height
  return view
}
