import { api } from './server'

/** The ADMIN_TOKEN the admin tests configure. */
export const ADMIN_TOKEN = 'admin-token-for-the-tests-0123456789'

/** An admin API call with the admin token (or the one given: null sends none). */
export function adminApi(server: { url: string }, method: string, path: string, token: string | null = ADMIN_TOKEN) {
  return api(server, method, path, undefined, { token })
}
