import { createPublicKey, type KeyObject } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose'
import type { Config } from '../config'
import { AppError } from '../http/errors'

/** Who is acting: the token's subject, and when its token stops being valid (ms since epoch). */
export interface Principal {
  userId: number
  expiresAt: number | null
}

/** Turns a bearer token into a Principal, or throws a 401 AppError. */
export interface TokenVerifier {
  /** Loads the key material; throws with a clear message when it is unusable. */
  init(): Promise<void>
  verify(token: string): Promise<Principal>
}

type Key = { key: Uint8Array | KeyObject | JWTVerifyGetKey; algorithms: string[] }

const unauthorized = (code: string, message: string) => new AppError(401, code, message)

/**
 * Loads the single key source the configuration names. The accepted algorithms are pinned to that
 * key: HS256 for a secret, RS256 for an RSA key, ES256 for a P-256 key. `alg: none` and a key-type
 * swap (an RS256 public key used as an HS256 secret) can never verify.
 */
export function loadKey(config: Config): Key {
  if (config.jwtSecret) return { key: new TextEncoder().encode(config.jwtSecret), algorithms: ['HS256'] }
  if (config.jwtPublicKeyFile) {
    let pem: string
    try {
      pem = readFileSync(config.jwtPublicKeyFile, 'utf8')
    } catch (e) {
      throw new Error(`JWT_PUBLIC_KEY_FILE=${config.jwtPublicKeyFile}: cannot read it (${(e as Error).message})`)
    }
    let key: KeyObject
    try {
      key = createPublicKey(pem)
    } catch {
      throw new Error(`JWT_PUBLIC_KEY_FILE=${config.jwtPublicKeyFile}: not a PEM public key`)
    }
    if (key.asymmetricKeyType === 'rsa') return { key, algorithms: ['RS256'] }
    if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return { key, algorithms: ['ES256'] }
    throw new Error(`JWT_PUBLIC_KEY_FILE=${config.jwtPublicKeyFile}: only RSA (RS256) and P-256 EC (ES256) public keys are accepted`)
  }
  if (config.jwtJwksUrl) return { key: createRemoteJWKSet(new URL(config.jwtJwksUrl)), algorithms: ['RS256', 'ES256'] }
  throw new Error('AUTH=jwt needs JWT_SECRET, JWT_PUBLIC_KEY_FILE or JWT_JWKS_URL')
}

/** A verifier for AUTH=jwt, built with jose. Its errors never contain the token. */
export function createJwtVerifier(config: Config): TokenVerifier {
  let loaded: Key | undefined
  const get = () => (loaded ??= loadKey(config))
  return {
    async init() {
      get()
    },
    async verify(token) {
      const { key, algorithms } = get()
      let payload
      try {
        ;({ payload } = await jwtVerify(token, key as any, {
          algorithms,
          issuer: config.jwtIssuer ?? undefined,
          audience: config.jwtAudience ?? undefined,
          clockTolerance: config.jwtClockToleranceSeconds,
          requiredClaims: ['sub', 'exp'],
        }))
      } catch (e) {
        throw describe(e)
      }
      const { userId, exp } = checkClaims(payload, Math.floor(Date.now() / 1000), config)
      return { userId, expiresAt: exp * 1000 }
    },
  }
}

/** A NumericDate as this server accepts one: whole seconds since 1970 (RFC 7519 allows fractions; issuers send none). */
const isNumericDate = (value: unknown): value is number => Number.isInteger(value) && (value as number) >= 0

/**
 * The claims jose leaves to its caller (RFC 8725 §3.10: validate every claim that is used): jose
 * checks that exp/nbf/iat are numbers, not which numbers, and ignores `sub`. A number or an array
 * as `sub` passed a regex once coerced, `1e400` parses as Infinity, and `exp: 1e300` never expires.
 */
function checkClaims(payload: JWTPayload, now: number, config: Pick<Config, 'jwtClockToleranceSeconds' | 'jwtMaxLifetimeSeconds'>): { userId: number; exp: number } {
  const invalid = (message: string) => unauthorized('invalid_token', message)
  const { sub, exp, iat, nbf } = payload
  if (typeof sub !== 'string' || !/^[1-9][0-9]{0,15}$/.test(sub) || !Number.isSafeInteger(Number(sub))) throw invalid('the token subject is not a user id')
  const notADate = (claim: string) => invalid(`the token's ${claim} claim is not a whole number of seconds since 1970`)
  // jose has already refused a token without exp; nbf and iat are optional.
  if (!isNumericDate(exp)) throw notADate('exp')
  if (nbf !== undefined && !isNumericDate(nbf)) throw notADate('nbf')
  if (iat !== undefined && !isNumericDate(iat)) throw notADate('iat')
  const tolerance = config.jwtClockToleranceSeconds
  if (iat !== undefined && iat > now + tolerance) throw invalid("the token's iat claim is in the future")
  // Without iat, the lifetime left is what counts, and this clock may lag the issuer's.
  const lifetime = iat !== undefined ? exp - iat : exp - now - tolerance
  if (lifetime > config.jwtMaxLifetimeSeconds) throw invalid(`the token is valid for longer than the ${config.jwtMaxLifetimeSeconds} s this server accepts`)
  return { userId: Number(sub), exp }
}

/** jose's error as a client may see it: a code and a fixed sentence. */
function describe(e: unknown): AppError {
  if (e instanceof errors.JWTExpired) return unauthorized('token_expired', 'the token has expired')
  if (e instanceof errors.JWTClaimValidationFailed) {
    if (e.claim === 'nbf') return unauthorized('token_not_yet_valid', 'the token is not valid yet')
    return unauthorized('invalid_token', `the token's ${e.claim} claim is missing or not accepted`)
  }
  if (e instanceof errors.JOSEAlgNotAllowed) return unauthorized('invalid_token', 'the token algorithm is not accepted')
  if (e instanceof errors.JWSSignatureVerificationFailed) return unauthorized('invalid_token', 'the token signature does not verify')
  if (e instanceof errors.JWKSNoMatchingKey) return unauthorized('invalid_token', 'no key matches the token')
  if (e instanceof errors.JOSEError) return unauthorized('invalid_token', 'the token is malformed')
  return unauthorized('invalid_token', 'the token could not be verified')
}

/** The bearer token of a request: `Authorization: Bearer`, or `?token=` where allowed (the WebSocket upgrade). */
export function bearerToken(request: Request, allowQuery: boolean): string | null {
  const header = request.headers.get('authorization')
  if (header) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header)
    return match ? match[1] : ''
  }
  if (allowQuery) {
    const url = request.url
    const q = url.indexOf('?')
    if (q >= 0) {
      const token = new URLSearchParams(url.slice(q + 1)).get('token')
      if (token !== null) return token
    }
  }
  return null
}
