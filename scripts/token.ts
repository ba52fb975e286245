// Mints a development token: `npm run token -- <user_id> [ttl_seconds]` (HS256 with JWT_SECRET,
// and JWT_ISSUER / JWT_AUDIENCE when set). Bun reads a .env file, so JWT_SECRET may live there.
import { SignJWT } from 'jose'
import { ConfigError, loadConfig } from '../src/config'

const [userId, ttlArg] = process.argv.slice(2)
if (!userId || !/^[1-9][0-9]*$/.test(userId)) {
  console.error('usage: npm run token -- <user_id> [ttl_seconds]')
  process.exit(2)
}
const ttl = ttlArg === undefined ? 24 * 3600 : Number(ttlArg)
if (!Number.isInteger(ttl) || ttl <= 0) {
  console.error('ttl_seconds must be a positive whole number')
  process.exit(2)
}
let config
try {
  config = loadConfig({ ...process.env, AUTH: 'jwt' })
} catch (e) {
  console.error(e instanceof ConfigError ? e.message : String(e))
  process.exit(2)
}
if (ttl > config.jwtMaxLifetimeSeconds) {
  console.error(`ttl_seconds ${ttl} is longer than JWT_MAX_LIFETIME_SECONDS (${config.jwtMaxLifetimeSeconds}): the server would refuse the token`)
  process.exit(2)
}
if (!config.jwtSecret) {
  console.error('npm run token signs with JWT_SECRET (HS256); with a public key or JWKS, tokens come from your identity provider')
  process.exit(2)
}
let jwt = new SignJWT({}).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setSubject(userId).setIssuedAt().setExpirationTime(`${ttl}s`)
if (config.jwtIssuer) jwt = jwt.setIssuer(config.jwtIssuer)
if (config.jwtAudience) jwt = jwt.setAudience(config.jwtAudience)
console.log(await jwt.sign(new TextEncoder().encode(config.jwtSecret)))
