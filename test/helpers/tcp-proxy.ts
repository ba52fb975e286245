import net from 'node:net'

/**
 * A TCP proxy to a real server that a test can cut (every connection dropped, new ones refused)
 * and restore on the same port: an outage of a shared service without touching the service.
 */
export async function startTcpProxy(upstreamPort: number, upstreamHost = '127.0.0.1') {
  const sockets = new Set<net.Socket>()
  let server: net.Server
  let port = 0
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server = net.createServer((client) => {
        const upstream = net.connect(upstreamPort, upstreamHost)
        sockets.add(client)
        sockets.add(upstream)
        client.pipe(upstream).pipe(client)
        const destroy = () => {
          client.destroy()
          upstream.destroy()
          sockets.delete(client)
          sockets.delete(upstream)
        }
        for (const s of [client, upstream]) s.on('error', destroy).on('close', destroy)
      })
      server.once('error', reject)
      server.listen(port, '127.0.0.1', () => {
        port = (server.address() as net.AddressInfo).port
        resolve()
      })
    })
  await listen()
  return {
    get port() {
      return port
    },
    /** Drops every connection and refuses new ones. */
    async cut() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        for (const s of sockets) s.destroy()
        sockets.clear()
      })
    },
    /** Accepts connections again on the same port. */
    restore: listen,
    async close() {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()))
    },
  }
}
