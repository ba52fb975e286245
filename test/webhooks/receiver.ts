import { Webhook } from 'standardwebhooks'

export interface Received {
  id: string
  body: { type: string; timestamp: string; data: Record<string, any> }
}

/** A status, or a whole response (a redirect with its Location); a promise that never settles: no answer. */
export type Answer = number | Response | Promise<number | Response>

/**
 * A webhook receiver on port 0 (or `port`) that verifies every signature with the `standardwebhooks`
 * package (an implementation independent of ours); `answer` decides the response to each request.
 */
export function startReceiver(secret: string, answer: (attempt: number, id: string) => Answer = () => 204, port = 0) {
  const verifier = new Webhook(secret)
  const received: Received[] = []
  const attempts: string[] = []
  const badSignatures: string[] = []
  const server = Bun.serve({
    port,
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
      const answered = await answer(attempts.length, id)
      const response = typeof answered === 'number' ? new Response(null, { status: answered }) : answered
      if (response.status >= 200 && response.status < 300) received.push({ id, body: JSON.parse(text) })
      return response
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
