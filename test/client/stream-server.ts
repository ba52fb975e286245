import type { ServerWebSocket } from 'bun'

/** A connection as the fake server saw it: its number (0, 1, …) and the `since` it asked for. */
export interface Connection {
  index: number
  since: number | undefined
}

const timestamp = () => new Date().toISOString()

/** Event-stream frames as docs/PROTOCOL.md describes them (issue 14): each durable one with `seq`. */
export const frames = {
  message: (id: number, text = `m${id}`) => ({ type: 'message', seq: id, id, sender_id: 2, recipient_id: 1, message: text, message_type: 'text', status: 'sent', client_id: null, timestamp: timestamp() }),
  status: (seq: number, messageId: number, status: 'delivered' | 'read' = 'delivered') => ({ type: 'message_status', seq, message_id: messageId, status, user_id: 2, timestamp: timestamp() }),
  receipt: (seq: number, messageId: number) => ({ type: 'read_receipt', seq, message_id: messageId, sender_id: 1, reader_id: 2, timestamp: timestamp() }),
  membership: (seq: number, groupId: number, member: boolean) => ({ type: 'membership', seq, group_id: groupId, user_id: 1, member, timestamp: timestamp() }),
  synced: (lastId: number, count = 0) => ({ type: 'synced', last_id: lastId, count }),
  backlogPage: (lastId: number, count = 0) => ({ type: 'backlog_page', last_id: lastId, count }),
}

/**
 * A JSON server that speaks the event-stream protocol from a script, so a test can send what the
 * real server sends only under faults: a replayed seq, a resent message, `resync_required`.
 * `script` answers each new connection with the frames sent after connection_established.
 */
export function streamServer(script: (connection: Connection) => object[]) {
  const connections: Connection[] = []
  let peer: ServerWebSocket<Connection> | undefined
  const server = Bun.serve<Connection, never>({
    port: 0,
    hostname: '127.0.0.1',
    fetch(request, srv) {
      const since = new URL(request.url).searchParams.get('since')
      const connection = { index: connections.length, since: since === null ? undefined : Number(since) }
      connections.push(connection)
      return srv.upgrade(request, { data: connection }) ? undefined : new Response('upgrade', { status: 426 })
    },
    websocket: {
      open(ws) {
        peer = ws
        ws.send(JSON.stringify({ type: 'connection_established', user_id: 1, timestamp: timestamp(), format: 'json', groups: [], max_message_length: 4000 }))
        for (const frame of script(ws.data)) ws.send(JSON.stringify(frame))
      },
      // The heartbeat's pings: answered, so the connection stays up however slow the test.
      message: (ws) => void ws.send(JSON.stringify({ type: 'pong', timestamp: timestamp() })),
    },
  })
  return {
    url: `http://127.0.0.1:${server.port}`,
    /** Every connection so far, in order. */
    connections,
    /** Sends live frames to the newest connection. */
    send(...frames: object[]) {
      for (const frame of frames) peer!.send(JSON.stringify(frame))
    },
    /** Closes the newest connection from the server side (the client reconnects). */
    drop() {
      peer!.close(1011, 'dropped by the test')
    },
    [Symbol.dispose]: () => void server.stop(true),
  }
}
