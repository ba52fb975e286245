import type { Socket } from 'bun'

/**
 * A TCP proxy between clients and a test server, to break connections the way networks do:
 * `cut()` resets every connection (like a crashed peer), `blackhole()` keeps them open but lets no
 * byte through (like a dead NAT or a sleeping laptop: only a heartbeat can notice).
 */
export class TcpProxy {
  private pairs = new Set<{ client: Socket<any>; upstream: Socket<any> | null }>()
  private dropping: 'none' | 'down' | 'both' = 'none'
  private constructor(
    private listener: { port: number; stop(closeActive?: boolean): void },
    private targetPort: number,
  ) {}

  /** Listens on a free port and forwards to 127.0.0.1:targetPort. */
  static start(targetPort: number): TcpProxy {
    let proxy!: TcpProxy
    type Data = { pair: { client: Socket<Data>; upstream: Socket<Data> | null }; queued: Uint8Array[] }
    const listener = Bun.listen<Data>({
      hostname: '127.0.0.1',
      port: 0,
      socket: {
        open(client) {
          const pair = { client, upstream: null as Socket<Data> | null }
          client.data = { pair, queued: [] }
          proxy.pairs.add(pair)
          Bun.connect<Data>({
            hostname: '127.0.0.1',
            port: proxy.targetPort,
            socket: {
              open(upstream) {
                upstream.data = client.data
                pair.upstream = upstream
                for (const chunk of client.data.queued.splice(0)) upstream.write(chunk)
              },
              data(_upstream, chunk) {
                if (proxy.dropping === 'none') client.write(chunk)
              },
              close() {
                proxy.pairs.delete(pair)
                client.end()
              },
              error() {
                client.end()
              },
            },
          }).catch(() => {
            proxy.pairs.delete(pair)
            client.terminate()
          })
        },
        data(client, chunk) {
          if (proxy.dropping === 'both') return
          const upstream = client.data.pair.upstream
          if (upstream) upstream.write(chunk)
          else client.data.queued.push(new Uint8Array(chunk))
        },
        close(client) {
          proxy.pairs.delete(client.data.pair)
          client.data.pair.upstream?.end()
        },
        error() {},
      },
    })
    proxy = new TcpProxy(listener, targetPort)
    return proxy
  }

  get port(): number {
    return this.listener.port
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`
  }

  /** Open connections through the proxy. */
  get connections(): number {
    return this.pairs.size
  }

  /** Sends new connections to another port (a restarted server). */
  retarget(port: number): void {
    this.targetPort = port
  }

  /** Resets every connection at once, with no WebSocket close frame. */
  cut(): void {
    for (const { client, upstream } of this.pairs) {
      client.terminate()
      upstream?.terminate()
    }
    this.pairs.clear()
  }

  /**
   * While on, connections stay open and bytes are dropped: in both directions, or only from the
   * server to the client ('down': the server acts on frames whose answers never arrive).
   */
  blackhole(mode: 'none' | 'down' | 'both'): void {
    this.dropping = mode
  }

  stop(): void {
    this.cut()
    this.listener.stop(true)
  }

  [Symbol.dispose](): void {
    this.stop()
  }
}
