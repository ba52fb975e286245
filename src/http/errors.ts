import { t } from 'elysia'

/** An error a client caused or must know about; REST answers `status`, WebSocket an `error` frame. */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

export const badRequest = (code: string, message: string) => new AppError(400, code, message)
export const notFound = (code: string, message: string) => new AppError(404, code, message)
export const forbidden = (code: string, message: string) => new AppError(403, code, message)

/** The body of every REST error. */
export const ErrorBody = t.Object({
  error: t.Object({ code: t.String(), message: t.String() }),
})

/** Builds the JSON error body. */
export function errorBody(code: string, message: string) {
  return { error: { code, message } }
}
