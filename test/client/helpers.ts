import { SwitchboardClient, type ClientOptions, type IncomingMessage } from '../../src/client'

/** Options that make the client's timers short enough for tests. */
export const fastTimers = {
  reconnect: { initialDelayMs: 20, maxDelayMs: 200, healthyAfterMs: 300, connectTimeoutMs: 2000 },
  heartbeat: { intervalMs: 200, timeoutMs: 300 },
} satisfies Partial<ClientOptions>

/** A connected client that records every message the application is handed. */
export async function connectClient(url: string, userId: number, options: Partial<ClientOptions> = {}) {
  const client = new SwitchboardClient({ url, userId, ...fastTimers, ...options })
  const received: IncomingMessage[] = []
  client.on('message', (m) => received.push(m))
  await client.connect()
  return Object.assign(client, { received, [Symbol.dispose]: () => client.close() })
}

/** Polls until `check` is true; fails with `what` after `timeoutMs`. */
export async function waitFor(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await Bun.sleep(10)
  }
}
