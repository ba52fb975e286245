import { CloneType, type TSchema } from '@sinclair/typebox'
import { t } from 'elysia'
import { ErrorBody, errorBody } from './errors'

/** A response schema with what the response means, for the API reference. */
export function described<T extends TSchema>(schema: T, description: string): T {
  return CloneType(schema, { description })
}

/** An error code and a message it is sent with. */
export type ErrorExample = readonly [code: string, message: string]

/** The JSON error body as one status documents it: what it means and an example of each code it carries. */
export function errorResponse(description: string, ...examples: ErrorExample[]) {
  return t.Object(ErrorBody.properties, { description, examples: examples.map(([code, message]) => errorBody(code, message)) })
}
