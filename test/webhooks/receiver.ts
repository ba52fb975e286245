import { Webhook } from 'standardwebhooks'

export interface Received {
  id: string
  body: { type: string; timestamp: string; data: Record<string, any> }
}

/**
 * A webhook receiver on port 0 that verifies every signature with the `standardwebhooks` package
 * (an implementation independent of ours); `answer` decides the status of each request.
 */
export function startReceiver(secret: string, answer: (attempt: number, id: string) => number = () => 204) {
  const verifier = new Webhook(secret)
  const received: Received[] = []
  const attempts: string[] = []
  const badSignatures: string[] = []
  const server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    async fetch(request) {
      const text = await request.text()
      const headers = Object.fromEntries(request.headers)
      const id = headers['webhook-id']
      try {
        verifier.verify(text, headers)
      } catch (error) {
        badSignatures.push(`${id}: ${(error as Error).message}`)
        return new Response('bad signature', { status: 400 })
      }
      attempts.push(id)
      const status = answer(attempts.length, id)
      if (status >= 200 && status < 300) received.push({ id, body: JSON.parse(text) })
      return new Response(null, { status })
    },
  })
  return {
    url: `http://127.0.0.1:${server.port}/hook`,
    received,
    attempts,
    badSignatures,
    stop: () => server.stop(true),
    [Symbol.dispose]() {
      server.stop(true)
    },
  }
}

/** Waits until `check` holds (polling), or fails after `ms`. */
export async function until(check: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await Bun.sleep(10)
  }
}
