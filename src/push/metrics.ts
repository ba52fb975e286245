import { Counter, Gauge, type Registry } from 'prom-client'

/** What a push attempt came to (sender.ts's outcomes). */
export type PushOutcome = 'sent' | 'gone' | 'retry' | 'refused'

/** Web Push metrics on the app's registry: attempts by outcome, and the messages waiting for their grace check. */
export function registerPushMetrics(registry: Registry, waiting: () => number) {
  const registers = [registry]
  const attempts = new Counter({
    name: 'switchboard_push_attempts_total',
    help: 'Web Push attempts, by outcome: sent, gone (the subscription was removed), retry (kept for a retry), refused',
    labelNames: ['outcome'],
    registers,
  })
  new Gauge({
    name: 'switchboard_push_grace_checks_waiting',
    help: 'Committed messages waiting for their grace check (PUSH_GRACE_MS) on this instance',
    registers,
    collect() {
      this.set(waiting())
    },
  })
  return { attempt: (outcome: PushOutcome) => attempts.inc({ outcome }) }
}
