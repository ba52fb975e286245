import { createHash, timingSafeEqual } from 'node:crypto'
import { bearerToken } from '../auth/verifier'
import type { Config } from '../config'
import { AppError } from '../http/errors'

/**
 * Who may use /admin:
 * - `token` (ADMIN_TOKEN set): the page is served to anyone (it holds no data and asks for the
 *   token), the API only to `Authorization: Bearer <ADMIN_TOKEN>`;
 * - `disabled` (AUTH=jwt without ADMIN_TOKEN, i.e. production): every /admin route answers 404;
 * - `loopback` (AUTH=none without ADMIN_TOKEN, i.e. development): callers whose peer address is
 *   this machine's, without a token. Forwarded-for headers are ignored: anyone can write them.
 */
export type AdminAccess = { kind: 'token'; digest: Buffer } | { kind: 'disabled' } | { kind: 'loopback' }

const digestOf = (token: string) => createHash('sha256').update(token).digest()

/** The access rule this configuration asks for. */
export function adminAccess(config: Pick<Config, 'adminToken' | 'auth'>): AdminAccess {
  if (config.adminToken !== null) return { kind: 'token', digest: digestOf(config.adminToken) }
  return config.auth === 'jwt' ? { kind: 'disabled' } : { kind: 'loopback' }
}

/** 127.0.0.0/8, ::1, and IPv4 loopback mapped into IPv6. */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address
  return address === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4)
}

/**
 * Refuses a request to an /admin route (throws the AppError to answer) or lets it through. `api`:
 * an /admin/api route (the page and its files need no token). `peerAddress`: the socket's.
 */
export function checkAdminRequest(access: AdminAccess, request: Request, peerAddress: string | undefined, api: boolean, set: { headers: Record<string, any> }): void {
  switch (access.kind) {
    case 'disabled':
      throw new AppError(404, 'admin_disabled', 'the admin view is disabled: AUTH=jwt without ADMIN_TOKEN; set ADMIN_TOKEN to enable it')
    case 'loopback':
      if (!isLoopbackAddress(peerAddress))
        throw new AppError(403, 'admin_loopback_only', 'without ADMIN_TOKEN the admin view answers callers on this machine only; set ADMIN_TOKEN to use it from elsewhere')
      return
    case 'token': {
      if (!api) return
      const token = bearerToken(request, false)
      set.headers['www-authenticate'] = 'Bearer realm="admin"'
      if (token === null) throw new AppError(401, 'missing_admin_token', 'send Authorization: Bearer <ADMIN_TOKEN>')
      // Digests of equal length, compared in constant time: neither the token nor its length leaks.
      if (!timingSafeEqual(digestOf(token), access.digest)) throw new AppError(401, 'invalid_admin_token', 'that is not the admin token')
      delete set.headers['www-authenticate']
    }
  }
}
