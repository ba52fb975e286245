import { Counter, Gauge, type Registry } from 'prom-client'
import type { Broker } from './broker'
import { RedisBroker } from './redis'

/** Cluster metrics on the app's registry: whether Redis is reachable, what it costs, what was lost. */
export function registerBrokerMetrics(registry: Registry, broker: Broker): void {
  const registers = [registry]
  new Gauge({
    name: 'switchboard_broker_healthy',
    help: '1 when the other instances can be reached (always 1 on a single instance)',
    registers,
    collect() {
      this.set(broker.isHealthy() ? 1 : 0)
    },
  })
  if (!(broker instanceof RedisBroker)) return
  new Gauge({
    name: 'switchboard_broker_watched_channels',
    help: 'Redis channels this instance subscribes to for its sockets (users and groups)',
    registers,
    collect() {
      this.set(broker.watchedChannels)
    },
  })
  let reported = 0
  new Counter({
    name: 'switchboard_broker_dropped_total',
    help: 'Publications not relayed because Redis was unreachable (typing, receipts, presence; messages are refused instead)',
    registers,
    collect() {
      this.inc(broker.dropped - reported)
      reported = broker.dropped
    },
  })
}
