/** Standard Webhooks signatures (https://www.standardwebhooks.com, "Signature scheme"). */
import { createHmac, randomBytes } from 'node:crypto'

const PREFIX = 'whsec_'

/** True for `whsec_` and base64 of 24 to 64 bytes: the form the spec's libraries accept. */
export function isWebhookSecret(secret: string): boolean {
  if (!secret.startsWith(PREFIX)) return false
  const key = secret.slice(PREFIX.length)
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(key)) return false
  const bytes = Buffer.from(key, 'base64').length
  return bytes >= 24 && bytes <= 64
}

/** A new secret: 32 random bytes. */
export function generateWebhookSecret(): string {
  return PREFIX + randomBytes(32).toString('base64')
}

/** The headers of one attempt: `v1,` and the base64 HMAC-SHA256 of `id.timestamp.body` under the decoded key. */
export function signatureHeaders(secret: string, id: string, timestampSeconds: number, body: string): Record<string, string> {
  const key = Buffer.from(secret.slice(PREFIX.length), 'base64')
  const signature = createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`).digest('base64')
  return { 'webhook-id': id, 'webhook-timestamp': String(timestampSeconds), 'webhook-signature': `v1,${signature}` }
}
