// A bot built on the client library: it answers every message with "echo: <text>" in the same
// conversation (the sender, or the group), marks what it read, and rides out server restarts.
//
//   SWITCHBOARD_URL=http://localhost:8000 BOT_USER_ID=2 node_modules/.bin/bun examples/echo-bot.ts
//   (with AUTH=jwt add SWITCHBOARD_TOKEN=$(npm run -s token -- 2))
import { SwitchboardClient, type ClientOptions, type Target } from '../src/client'

const PREFIX = 'echo: '

/** Starts the bot; call `connect()` on the result. */
export function startEchoBot(options: ClientOptions, log: (line: string) => void = console.log): SwitchboardClient {
  const bot = new SwitchboardClient(options)
  bot.on('state', (s) => log(`[bot ${bot.userId}] ${s.state}${s.reason ? ` (${s.reason})` : ''}`))
  bot.on('message', (m) => {
    // Never answer an echo: two bots in one group would otherwise talk forever.
    if (m.sender_id === bot.userId || m.message.startsWith(PREFIX)) return
    bot.markRead(m.id)
    const to: Target = m.group_id !== undefined ? { group_id: m.group_id } : { recipient_id: m.sender_id }
    bot.send(to, (PREFIX + m.message).slice(0, 4000)).then(
      (sent) => log(`[bot ${bot.userId}] echoed message ${m.id} as ${sent.message_id}`),
      (error) => log(`[bot ${bot.userId}] could not echo message ${m.id}: ${error.message}`),
    )
  })
  bot.on('error', (e) => log(`[bot ${bot.userId}] server error ${e.code}: ${e.message}`))
  return bot
}

if (import.meta.main) {
  const url = process.env.SWITCHBOARD_URL ?? 'http://localhost:8000'
  const userId = Number(process.env.BOT_USER_ID ?? 2)
  const bot = startEchoBot({ url, userId, token: process.env.SWITCHBOARD_TOKEN, format: process.env.FORMAT === 'msgpack' ? 'msgpack' : 'json' })
  const stop = () => {
    bot.close()
    process.exit(0)
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
  await bot.connect()
  console.log(`echo bot is user ${userId} on ${url}; send it a message from the test page. Ctrl-C stops it.`)
}
