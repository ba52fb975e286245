// Every token a client might present that must not work, against the WebSocket upgrade and REST.
// Each is refused before the upgrade (no socket opens), nothing is stored and nothing is delivered.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { exportJWK, exportSPKI, generateKeyPair, SignJWT } from 'jose'
import { startServer, type TestServer, storedMessages } from '../helpers/server'
import { TestClient } from '../helpers/ws-client'
import { call, mintToken, SECRET, signClaims, tempDir, tryWebSocket, unsignedToken } from './fixtures'

const now = () => Math.floor(Date.now() / 1000)
const ISSUER = 'https://id.example'
const AUDIENCE = 'switchboard'

let hs: TestServer
let rs: TestServer
let rsa: { publicKey: CryptoKey; privateKey: CryptoKey }
let rsaPem: string
const dir = tempDir()

beforeAll(async () => {
  rsa = await generateKeyPair('RS256', { extractable: true })
  rsaPem = await exportSPKI(rsa.publicKey)
  const pemFile = join(dir.dir, 'rs256.pem')
  writeFileSync(pemFile, rsaPem)
  hs = await startServer({ config: { auth: 'jwt', jwtSecret: SECRET, jwtIssuer: ISSUER, jwtAudience: AUDIENCE, jwtClockToleranceSeconds: 0 } })
  rs = await startServer({ config: { auth: 'jwt', jwtPublicKeyFile: pemFile, jwtClockToleranceSeconds: 0 } })
})
afterAll(async () => {
  await hs?.[Symbol.asyncDispose]()
  await rs?.[Symbol.asyncDispose]()
  dir[Symbol.dispose]()
})

const good = { sub: '1', iss: ISSUER, aud: AUDIENCE }

/** A token the given server accepts. */
function validToken(server: TestServer, sub: string): Promise<string> {
  return server === hs ? mintToken(SECRET, { ...good, sub }) : mintToken(rsa.privateKey, { sub }, 'RS256')
}

/** Each case: a token (or none) presented as user 1, and the status and code it must get. */
const cases: { name: string; server: () => TestServer; token: () => Promise<string | null>; status: number; code: string }[] = [
  { name: 'no token', server: () => hs, token: async () => null, status: 401, code: 'missing_token' },
  { name: 'malformed', server: () => hs, token: async () => 'not-a-jwt', status: 401, code: 'invalid_token' },
  { name: 'three garbage parts', server: () => hs, token: async () => 'eyJhbGciOiJIUzI1NiJ9.e30.AAAA', status: 401, code: 'invalid_token' },
  { name: 'wrong signature (another secret)', server: () => hs, token: () => mintToken('another-secret-of-at-least-thirty-two-bytes!!', good), status: 401, code: 'invalid_token' },
  { name: 'alg none', server: () => hs, token: async () => unsignedToken('1'), status: 401, code: 'invalid_token' },
  {
    name: 'HS/RS confusion: HS256 signed with the server RSA public key',
    server: () => rs,
    token: () => mintToken(rsaPem, { sub: '1' }, 'HS256'),
    status: 401,
    code: 'invalid_token',
  },
  { name: 'RS256 token at an HS256 server', server: () => hs, token: () => mintToken(rsa.privateKey, good, 'RS256'), status: 401, code: 'invalid_token' },
  { name: 'expired', server: () => hs, token: () => mintToken(SECRET, { ...good, exp: now() - 60 }), status: 401, code: 'token_expired' },
  { name: 'not yet valid', server: () => hs, token: () => mintToken(SECRET, { ...good, nbf: now() + 600 }), status: 401, code: 'token_not_yet_valid' },
  { name: 'wrong audience', server: () => hs, token: () => mintToken(SECRET, { ...good, aud: 'another-app' }), status: 401, code: 'invalid_token' },
  { name: 'wrong issuer', server: () => hs, token: () => mintToken(SECRET, { ...good, iss: 'https://evil.example' }), status: 401, code: 'invalid_token' },
  { name: 'no exp (tokens must expire)', server: () => hs, token: () => mintToken(SECRET, { ...good, exp: null }), status: 401, code: 'invalid_token' },
  { name: 'subject is not a user id', server: () => hs, token: () => mintToken(SECRET, { ...good, sub: 'alice' }), status: 401, code: 'invalid_token' },
  // RFC 8725 §3.10/§3.11: claims checked for their type and range, not only their presence.
  ...claimCases(),
  { name: "another user's id in the path", server: () => hs, token: () => mintToken(SECRET, { ...good, sub: '2' }), status: 403, code: 'forbidden' },
]

/** Claims a careful verifier refuses, each alone on an otherwise good HS256 token for user 1 (401 invalid_token). */
function claimCases() {
  const base = () => ({ ...good, iat: now(), exp: now() + 3600 })
  const refused = (name: string, claims: () => Record<string, unknown> | string) =>
    ({ name, server: () => hs, token: () => signClaims(claims()), status: 401, code: 'invalid_token' })
  const withJson = (field: string, json: string) => () => JSON.stringify(base()).replace(/}$/, `,"${field}":${json}}`)
  return [
    refused('a numeric sub', () => ({ ...base(), sub: 1 })),
    refused('an array sub', () => ({ ...base(), sub: ['1'] })),
    refused('a sub beyond the exact integers', () => ({ ...base(), sub: '9007199254740993' })),
    refused('exp=1e300 (never expires)', () => ({ ...base(), exp: 1e300 })),
    refused('exp=1e400 (parsed as Infinity)', withJson('exp', '1e400')),
    refused('a fractional exp', () => ({ ...base(), exp: now() + 3600.5 })),
    refused('a negative nbf', () => ({ ...base(), nbf: -1 })),
    refused('nbf=-1e400 (parsed as -Infinity)', withJson('nbf', '-1e400')),
    refused('an iat an hour in the future', () => ({ ...base(), iat: now() + 3600, exp: now() + 7200 })),
    refused('iat=1e400 (parsed as Infinity)', withJson('iat', '1e400')),
    refused('a fractional iat', () => ({ ...base(), iat: now() - 0.5 })),
    refused('a lifetime (exp - iat) beyond JWT_MAX_LIFETIME_SECONDS', () => ({ ...base(), exp: now() + 86_400 + 60 })),
    refused('no iat and exp further than JWT_MAX_LIFETIME_SECONDS from now', () => {
      const { iat: _, ...claims } = base()
      return { ...claims, exp: now() + 86_400 + 60 }
    }),
  ]
}

describe('refused tokens', () => {
  for (const c of cases) {
    test(c.name, async () => {
      const server = c.server()
      const token = await c.token()
      // bob (2) is connected legitimately; whatever happens, he must receive nothing.
      const bob = await TestClient.connect(server.wsUrl, `/ws/2?token=${await validToken(server, '2')}`)
      try {
        // The upgrade, both ways a client can present a token. A refusal is an HTTP answer before any upgrade.
        const plain = await call(server, 'GET', '/ws/1', token)
        expect(plain.status).toBe(c.status)
        expect(plain.body.error.code).toBe(c.code)
        if (c.status === 401) expect(plain.headers.get('www-authenticate')).toStartWith('Bearer')
        const viaQuery = await tryWebSocket(`${server.wsUrl}/ws/1${token === null ? '' : `?token=${encodeURIComponent(token)}`}`)
        const viaHeader = await tryWebSocket(`${server.wsUrl}/ws/1`, { headers: token === null ? {} : { authorization: `Bearer ${token}` } })
        expect([viaQuery.outcome, viaHeader.outcome]).toEqual(['refused', 'refused'])
        // REST, acting as user 1.
        const sent = await call(server, 'POST', '/messages', token, { sender_id: 1, recipient_id: 2, message: 'should not be stored' })
        expect(sent.status).toBe(c.status)
        expect(sent.body.error.code).toBe(c.code)
        expect(await storedMessages(server.store)).toBe(0)
        expect(await bob.collect('message', 100)).toEqual([])
      } finally {
        bob.close()
      }
    })
  }
})

describe('accepted tokens', () => {
  test('HS256 with issuer and audience: header and ?token= both open the socket, and REST acts as the subject', async () => {
    const alice = await mintToken(SECRET, good)
    const viaHeader = await tryWebSocket(`${hs.wsUrl}/ws/1`, { headers: { authorization: `Bearer ${alice}` } })
    expect(viaHeader.outcome).toBe('open')
    viaHeader.ws.close()
    const bob = await TestClient.connect(hs.wsUrl, `/ws/2?token=${await mintToken(SECRET, { ...good, sub: '2' })}`)
    const sent = await call(hs, 'POST', '/messages', alice, { sender_id: 1, recipient_id: 2, message: 'hello with a token' })
    expect(sent.status).toBe(201)
    expect(await bob.next('message')).toMatchObject({ sender_id: 1, message: 'hello with a token' })
    bob.close()
  })

  test('RS256 and ES256 public keys verify their own tokens', async () => {
    const token = await mintToken(rsa.privateKey, { sub: '1' }, 'RS256')
    expect((await call(rs, 'GET', '/messages/conversations/1', token)).status).toBe(200)

    using d = tempDir()
    const ec = await generateKeyPair('ES256', { extractable: true })
    const file = join(d.dir, 'es256.pem')
    writeFileSync(file, await exportSPKI(ec.publicKey))
    await using es = await startServer({ config: { auth: 'jwt', jwtPublicKeyFile: file } })
    expect((await call(es, 'GET', '/messages/conversations/1', await mintToken(ec.privateKey, { sub: '1' }, 'ES256'))).status).toBe(200)
    // An RS256 token means nothing to an ES256 server.
    expect((await call(es, 'GET', '/messages/conversations/1', token)).status).toBe(401)
  })

  test('JWKS: a key served by the identity provider verifies tokens naming its kid; another kid or key does not', async () => {
    const ec = await generateKeyPair('ES256', { extractable: true })
    const jwk = { ...(await exportJWK(ec.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' }
    using idp = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => Response.json({ keys: [jwk] }) })
    await using server = await startServer({ config: { auth: 'jwt', jwtJwksUrl: `http://127.0.0.1:${idp.port}/jwks.json` } })
    const sign = (kid: string, key: CryptoKey) => new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid }).setSubject('1').setExpirationTime('1h').sign(key)
    expect((await call(server, 'GET', '/messages/conversations/1', await sign('k1', ec.privateKey))).status).toBe(200)
    const other = await generateKeyPair('ES256')
    expect((await call(server, 'GET', '/messages/conversations/1', await sign('k1', other.privateKey))).body.error.code).toBe('invalid_token')
    expect((await call(server, 'GET', '/messages/conversations/1', await sign('k2', ec.privateKey))).body.error.code).toBe('invalid_token')
  })

  test('when the token expires, the server closes the socket with 4001', async () => {
    const token = await mintToken(SECRET, { ...good, exp: now() + 2 })
    const alice = await TestClient.connect(hs.wsUrl, `/ws/1?token=${token}`)
    const closed = await alice.waitClosed(5000)
    expect(closed.code).toBe(4001)
  })
})

describe('the token lifetime and the clock, with the default JWT_CLOCK_TOLERANCE_SECONDS (5) and JWT_MAX_LIFETIME_SECONDS (86400)', () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startServer({ config: { auth: 'jwt', jwtSecret: SECRET } })
  })
  afterAll(() => server?.[Symbol.asyncDispose]())

  /** What REST answers a token for user 1 with these claims: the status and, for a refusal, its code. */
  async function answer(claims: Record<string, unknown>) {
    const res = await call(server, 'GET', '/messages/conversations/1', await signClaims({ sub: '1', ...claims }))
    return res.status === 200 ? 200 : `${res.status} ${res.body.error.code}`
  }

  test.each([
    ['an hour ago', 3600, '401 token_expired'],
    ['10 s ago, beyond the tolerance', 10, '401 token_expired'],
    ['2 s ago, within the tolerance', 2, 200],
  ] as const)('a token that expired %s: %p', async (_what, ago, expected) => {
    expect(await answer({ iat: now() - 7200, exp: now() - ago })).toBe(expected)
  })

  test('an iat a little ahead of this clock is skew, accepted; exp - iat exactly the maximum is accepted', async () => {
    expect(await answer({ iat: now() + 2, exp: now() + 3600 })).toBe(200)
    expect(await answer({ iat: now(), exp: now() + 86_400 })).toBe(200)
    expect(await answer({ exp: now() + 86_400 - 60 })).toBe(200)
  })

  test('JWT_MAX_LIFETIME_SECONDS is configurable: at 600, an hour-long token is refused and a ten-minute one accepted', async () => {
    await using short = await startServer({ config: { auth: 'jwt', jwtSecret: SECRET, jwtMaxLifetimeSeconds: 600 } })
    const refused = await call(short, 'GET', '/messages/conversations/1', await signClaims({ sub: '1', iat: now(), exp: now() + 3600 }))
    expect(refused.status).toBe(401)
    expect(refused.body.error).toEqual({ code: 'invalid_token', message: 'the token is valid for longer than the 600 s this server accepts' })
    expect((await call(short, 'GET', '/messages/conversations/1', await signClaims({ sub: '1', iat: now(), exp: now() + 600 }))).status).toBe(200)
  })
})

test('ALLOWED_ORIGINS refuses a WebSocket from another site (cross-site WebSocket hijacking)', async () => {
  await using server = await startServer({ config: { allowedOrigins: ['https://chat.example'] } })
  const evil = await call(server, 'GET', '/ws/1', null, undefined, { origin: 'https://evil.example' })
  expect(evil.status).toBe(403)
  expect(evil.body.error.code).toBe('origin_not_allowed')
  expect((await tryWebSocket(`${server.wsUrl}/ws/1`, { headers: { origin: 'https://evil.example' } })).outcome).toBe('refused')
  const ok = await tryWebSocket(`${server.wsUrl}/ws/1`, { headers: { origin: 'https://chat.example' } })
  expect(ok.outcome).toBe('open')
  ok.ws.close()
})
