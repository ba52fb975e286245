import { spawn, type Subprocess } from 'bun'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CompactSign, SignJWT, UnsecuredJWT } from 'jose'
import { api } from '../helpers/server'

export const SECRET = 'test-secret-of-at-least-thirty-two-bytes-0123456789'
const ROOT = join(import.meta.dir, '..', '..')
const BUN = join(ROOT, 'node_modules', '.bin', 'bun')

type Claims = { sub?: string; exp?: number | null; nbf?: number; iss?: string; aud?: string }

/** A signed token; `exp` defaults to an hour from now, `null` leaves it out. */
export async function mintToken(key: Uint8Array | CryptoKey | string = SECRET, claims: Claims = {}, alg = 'HS256'): Promise<string> {
  const now = Math.floor(Date.now() / 1000)
  const { exp = now + 3600, ...rest } = claims
  const jwt = new SignJWT({ ...rest }).setProtectedHeader({ alg }).setIssuedAt()
  if (exp !== null) jwt.setExpirationTime(exp)
  return jwt.sign(typeof key === 'string' ? new TextEncoder().encode(key) : key)
}

/**
 * An HS256 token over exactly these claims, unchecked: an object, or the JSON text itself for
 * what JSON.stringify cannot write (`1e400`, which a verifier parses as Infinity).
 */
export function signClaims(claims: Record<string, unknown> | string, key = SECRET): Promise<string> {
  const json = typeof claims === 'string' ? claims : JSON.stringify(claims)
  return new CompactSign(new TextEncoder().encode(json)).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(key))
}

/** `alg: none`: no signature at all. */
export function unsignedToken(sub: string): string {
  return new UnsecuredJWT({}).setSubject(sub).setIssuedAt().setExpirationTime('1h').encode()
}

/** An HTTP request with a bearer token; the body as JSON. */
export function call(base: { url: string }, method: string, path: string, token?: string | null, body?: unknown, headers: Record<string, string> = {}) {
  return api(base, method, path, body, { token, headers })
}

/** Tries a WebSocket; resolves 'open' or 'refused' (the upgrade answered with an HTTP error). */
export function tryWebSocket(url: string, options: { headers?: Record<string, string> } = {}): Promise<{ outcome: 'open' | 'refused'; ws: WebSocket }> {
  const ws = new WebSocket(url, options as any)
  return new Promise((resolve) => {
    ws.onopen = () => resolve({ outcome: 'open', ws })
    ws.onerror = () => resolve({ outcome: 'refused', ws })
    ws.onclose = () => resolve({ outcome: 'refused', ws })
  })
}

export interface SpawnedServer {
  proc: Subprocess<'ignore', 'pipe', 'pipe'>
  url: string
  port: number
  /** Everything the process printed so far. */
  output(): string
  exited: Promise<number>
}

/**
 * Runs the real entry point (`bun src/index.ts`) as a child process and waits for it to listen.
 * Rejects with its output when it exits first.
 */
export async function spawnServer(env: Record<string, string>, timeoutMs = 10_000): Promise<SpawnedServer> {
  const proc = spawn([BUN, 'src/index.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'warn', ...env },
    stdout: 'pipe',
    stderr: 'pipe',
    stdin: 'ignore',
  })
  let out = ''
  const decoder = new TextDecoder()
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) out += decoder.decode(chunk)
  }
  void pump(proc.stdout)
  void pump(proc.stderr)
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const m = /switchboard listening on (https?):\/\/[^:]+:(\d+)/.exec(out)
    if (m) {
      const port = Number(m[2])
      return { proc, url: `${m[1]}://localhost:${port}`, port, output: () => out, exited: proc.exited }
    }
    if (proc.exitCode !== null) throw new Error(`server exited with ${proc.exitCode}:\n${out}`)
    await Bun.sleep(20)
  }
  proc.kill(9)
  throw new Error(`server did not start within ${timeoutMs} ms:\n${out}`)
}

/** Runs the entry point expecting it to refuse to start; resolves with its exit code and output. */
export async function runToExit(env: Record<string, string>): Promise<{ code: number; output: string }> {
  const proc = spawn([BUN, 'src/index.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', HOST: '127.0.0.1', PORT: '0', ...env },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const timer = setTimeout(() => proc.kill(9), 10_000)
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  clearTimeout(timer)
  return { code, output: stdout + stderr }
}

/** A temporary folder removed on dispose. */
export function tempDir(prefix = 'switchboard-hardening-') {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  return { dir, [Symbol.dispose]: () => rmSync(dir, { recursive: true, force: true }) }
}
