/**
 * The REST baseline: a bare Elysia app with the same two routes the REST benchmark calls, no
 * validation and no database. POST /messages echoes the body with an id; GET /messages returns a
 * page of 50 messages built per request, shaped like Switchboard's history page.
 *
 * Usage: bun bench/baseline-http.ts   (PORT=0 picks a free port; prints "listening on PORT")
 */
import { Elysia } from 'elysia'

let nextId = 0
const page = (before: number) => {
  const messages = []
  for (let id = before - 50; id < before; id++)
    messages.push({ id, sender_id: 1, recipient_id: 2, message: `message number ${id} of the history`, message_type: 'text', status: 'delivered', client_id: null, timestamp: new Date(1_700_000_000_000 + id).toISOString() })
  return { messages, has_more: true, next_cursor: { before: before - 50 } }
}

const app = new Elysia()
  .post('/messages', ({ body, set }) => {
    set.status = 201
    return { ...(body as object), id: ++nextId, status: 'sent', timestamp: new Date().toISOString() }
  })
  .get('/messages', ({ query }) => page(Number(query.before ?? 10_000)))
  .listen({ port: Number(process.env.PORT ?? 0), hostname: '127.0.0.1' })

console.log(`listening on ${app.server!.port}`)
process.on('SIGTERM', () => {
  app.stop(true)
  process.exit(0)
})
