// A push service for tests (RFC 8030 §5, the part a sender talks to) and a browser's side of
// RFC 8291: its own key pair and auth secret, and the decryption of what arrives, written here
// with WebCrypto, independently of web-push, which the server encrypts with.
import { importJWK, jwtVerify } from 'jose'

export interface ReceivedPush {
  path: string
  headers: Headers
  body: Uint8Array
}

export interface TestPushService {
  url: string
  received: ReceivedPush[]
  /** The status the next pushes get (201 unless told otherwise; a function to answer per push). */
  respond: (push: ReceivedPush, n: number) => number
  next(timeoutMs?: number): Promise<ReceivedPush>
  stop(): void
  [Symbol.dispose](): void
}

export function startPushService(): TestPushService {
  const waiters: ((p: ReceivedPush) => void)[] = []
  const service: TestPushService = {
    url: '',
    received: [],
    respond: () => 201,
    next(timeoutMs = 5000) {
      const seen = service.received.length
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no push arrived')), timeoutMs)
        const check = (p: ReceivedPush) => {
          clearTimeout(timer)
          resolve(p)
        }
        if (service.received.length > seen) return check(service.received[seen])
        waiters.push(check)
      })
    },
    stop: () => server.stop(true),
    [Symbol.dispose]: () => server.stop(true),
  }
  const server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    async fetch(request) {
      const push = { path: new URL(request.url).pathname, headers: request.headers, body: new Uint8Array(await request.arrayBuffer()) }
      service.received.push(push)
      const status = service.respond(push, service.received.length)
      waiters.shift()?.(push)
      return new Response(null, { status })
    },
  })
  service.url = `http://127.0.0.1:${server.port}`
  return service
}

const b64 = (bytes: ArrayBuffer | Uint8Array) => Buffer.from(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes)).toString('base64url')
const concat = (...parts: Uint8Array[]): Uint8Array<ArrayBuffer> => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}
const utf8 = (s: string) => new Uint8Array(new TextEncoder().encode(s))

/** A browser's subscription: what pushManager.subscribe makes (a P-256 key pair and a 16-byte auth secret). */
export async function browserSubscription(endpoint: string) {
  const keys = (await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, true, ['deriveBits'])) as CryptoKeyPair
  const publicKey = new Uint8Array(await crypto.subtle.exportKey('raw', keys.publicKey))
  const auth = crypto.getRandomValues(new Uint8Array(16))
  return {
    json: { endpoint, expirationTime: null, keys: { p256dh: b64(publicKey), auth: b64(auth) } },
    /** Decrypts an aes128gcm body (RFC 8188 §2, keys per RFC 8291 §3.4) to its text. */
    async decrypt(body: Uint8Array): Promise<string> {
      // RFC 8188 §2.1: salt (16) | record size (4) | idlen (1) | keyid (the sender's public key, RFC 8291 §4).
      const salt = body.slice(0, 16)
      const idlen = body[20]
      const senderPublic = body.slice(21, 21 + idlen)
      const ciphertext = body.slice(21 + idlen)
      const senderKey = await crypto.subtle.importKey('raw', senderPublic, { name: 'ECDH', namedCurve: 'P-256' }, false, [])
      const ecdh = new Uint8Array(await crypto.subtle.deriveBits({ name: 'ECDH', public: senderKey }, keys.privateKey, 256))
      const hkdf = async (salt: Uint8Array<ArrayBuffer>, ikm: Uint8Array<ArrayBuffer>, info: Uint8Array<ArrayBuffer>, bytes: number) =>
        new Uint8Array(await crypto.subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt, info }, await crypto.subtle.importKey('raw', ikm, 'HKDF', false, ['deriveBits']), bytes * 8))
      // RFC 8291 §3.4: IKM from the ECDH secret and the auth secret, then RFC 8188 §2.2/2.3.
      const ikm = await hkdf(auth, ecdh, concat(utf8('WebPush: info\0'), publicKey, senderPublic), 32)
      const cek = await hkdf(salt, ikm, utf8('Content-Encoding: aes128gcm\0'), 16)
      const nonce = await hkdf(salt, ikm, utf8('Content-Encoding: nonce\0'), 12)
      const key = await crypto.subtle.importKey('raw', cek, 'AES-GCM', false, ['decrypt'])
      const plain = new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv: nonce }, key, ciphertext))
      // The last record ends with the delimiter 0x02, then zero padding (RFC 8188 §2).
      let end = plain.length - 1
      while (end >= 0 && plain[end] === 0) end--
      if (plain[end] !== 2) throw new Error('not a last record: no 0x02 delimiter')
      return new TextDecoder().decode(plain.slice(0, end))
    },
  }
}

/** Checks the VAPID Authorization header (RFC 8292 §3): `vapid t=<JWT>, k=<public key>`, signed ES256 by that key for this audience. */
export async function verifyVapid(headers: Headers, publicKey: string, audience: string): Promise<Record<string, unknown>> {
  const header = headers.get('authorization') ?? ''
  const match = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(header)
  if (!match) throw new Error(`not a VAPID Authorization header: ${header}`)
  if (match[2] !== publicKey) throw new Error('k= is not the configured VAPID key')
  const raw = Buffer.from(publicKey, 'base64url')
  const jwk = { kty: 'EC', crv: 'P-256', x: b64(raw.subarray(1, 33)), y: b64(raw.subarray(33, 65)) }
  const { payload } = await jwtVerify(match[1], await importJWK(jwk, 'ES256'), { audience, algorithms: ['ES256'] })
  return payload as Record<string, unknown>
}
