import { Elysia, t } from 'elysia'
import { badRequest } from '../http/errors'
import { described, errorResponse, type ErrorExample } from '../http/responses'
import { ActingUserQuery, AttachmentParams, AttachmentView } from './model'
import { RetryLater, type AttachmentService } from './service'

/** The one route whose body is not JSON: src/http/json-body.ts leaves it to this module, unread. */
export const UPLOAD_ROUTE = { method: 'POST', path: '/attachments' } as const

const otherUser: ErrorExample = ['forbidden', 'user_id is 2, but the token is for user 1']
const notFoundExample: ErrorExample = ['attachment_not_found', 'attachment q3Rz1mJ0TfWc5bK8xY2aLw does not exist or was not sent to you']
const binary = (description: string, example = '%PDF-1.4 …') => t.String({ description, examples: [example] })

/** Under AUTH=none the acting user is `?user_id=`; under AUTH=jwt the policy has put the token's user there. */
function actingUser(query: { user_id?: number }): number {
  if (query.user_id === undefined) throw badRequest('user_id_required', 'give user_id: the acting user')
  return query.user_id
}

/** REST: uploading a file, downloading it and its thumbnail. */
export function attachmentRoutes(attachments: AttachmentService) {
  return new Elysia({ name: 'attachments' })
    .post(
      UPLOAD_ROUTE.path,
      async ({ query, request, status, set }) => {
        try {
          return status(201, await attachments.upload(actingUser(query), request))
        } catch (error) {
          // What is left of a refused body is never read: it must not be taken for the next request.
          set.headers.connection = 'close'
          if (error instanceof RetryLater) set.headers['retry-after'] = String(error.retryAfterSeconds)
          throw error
        }
      },
      {
        query: ActingUserQuery,
        response: {
          201: described(AttachmentView, 'Stored; send it with a message of type image or file (attachment_ids)'),
          400: errorResponse(
            'No file field, an empty file, a malformed body, or no user_id (AUTH=none)',
            ['file_required', 'the form has no field named "file" with a file in it'],
            ['empty_file', 'the file is empty'],
            ['invalid_multipart', 'the multipart body is malformed: Unexpected end of form'],
            ['user_id_required', 'give user_id: the acting user'],
          ),
          403: errorResponse("AUTH=jwt: user_id is not the token's user", otherUser),
          404: errorResponse('No such user', ['unknown_user', 'user 99 does not exist']),
          408: errorResponse('The body stopped arriving (BODY_TIMEOUT_SECONDS)', ['body_timeout', 'no part of the body arrived for 5 s']),
          413: errorResponse(
            'The file is larger than MAX_ATTACHMENT_BYTES (declared or counted as it streams), or than what is left of the upload quota',
            ['attachment_too_large', 'the file is larger than 26214400 bytes'],
            ['quota_exceeded', 'the file is larger than the 1048576 bytes left of your upload quota'],
          ),
          415: errorResponse(
            'Not multipart/form-data, or a type (detected from the bytes) that ATTACHMENT_TYPES does not allow',
            ['unsupported_media_type', 'send the file as multipart/form-data, in a field named "file"'],
            ['type_not_allowed', 'files of type application/x-msdownload are not accepted (ATTACHMENT_TYPES)'],
          ),
          429: errorResponse('Too many uploads (RATE_UPLOADS_PER_SECOND): wait Retry-After seconds', ['rate_limited', 'too many uploads; retry in 5 s']),
        },
        detail: {
          summary: 'Upload a file',
          description:
            'multipart/form-data with the file in a field named `file`; streamed to storage, never held whole in memory. The type is detected from the bytes. ' +
            'The one route whose body is not JSON; MAX_ATTACHMENT_BYTES bounds it instead of MAX_BODY_BYTES.',
          tags: ['attachments'],
          requestBody: {
            required: true,
            content: { 'multipart/form-data': { schema: { type: 'object', required: ['file'], properties: { file: { type: 'string', format: 'binary' } } } } },
          },
        },
      },
    )
    .get('/attachments/:id', ({ params, query, request }) => attachments.download(actingUser(query), params.id, request.headers), {
      params: AttachmentParams,
      query: ActingUserQuery,
      response: {
        200: binary('The bytes, with the detected Content-Type, an ETag, Content-Disposition (inline only for PNG, JPEG, GIF and WebP), nosniff and a sandboxing CSP'),
        206: binary('The range asked for (Range: bytes=...)'),
        304: binary('If-None-Match matched the ETag: nothing changed', ''),
        400: errorResponse('No user_id (AUTH=none)', ['user_id_required', 'give user_id: the acting user']),
        403: errorResponse("AUTH=jwt: user_id is not the token's user", otherUser),
        404: errorResponse('No such attachment, or not one the user may download (the same answer for both)', notFoundExample),
        416: errorResponse('The range starts past the end of the file', ['range_not_satisfiable', 'the file has 48213 bytes']),
      },
      detail: {
        summary: 'Download a file',
        description: 'For its uploader, and for the members of every conversation it was sent to. Range requests and If-None-Match are answered.',
        tags: ['attachments'],
      },
    })
    .get('/attachments/:id/thumbnail', ({ params, query, request }) => attachments.thumbnail(actingUser(query), params.id, request.headers), {
      params: AttachmentParams,
      query: ActingUserQuery,
      response: {
        200: binary('A WebP of at most 320 pixels a side', 'RIFF…WEBP…'),
        304: binary('If-None-Match matched the ETag', ''),
        400: errorResponse('No user_id (AUTH=none)', ['user_id_required', 'give user_id: the acting user']),
        403: errorResponse("AUTH=jwt: user_id is not the token's user", otherUser),
        404: errorResponse('No such attachment, not one the user may download, or not an image with a thumbnail', notFoundExample, ['no_thumbnail', 'attachment q3Rz1mJ0TfWc5bK8xY2aLw has no thumbnail (it is not an image sharp can read)']),
      },
      detail: { summary: "A thumbnail of an image", description: 'The same access as the file itself.', tags: ['attachments'] },
    })
}
