import { expect, test } from 'bun:test'
import { Emitter } from '../../src/client/emitter'

class Events extends Emitter<{ tick: number }> {
  tick(n: number) {
    this.emit('tick', n)
  }
}

test('a listener added while an event is being emitted hears the next event, not that one', () => {
  const events = new Events()
  const heard: string[] = []
  // Each call adds one more listener: with a live iteration this emit would never end.
  const chain = (n: number) => {
    heard.push(`chain ${n}`)
    events.on('tick', (m) => heard.push(`late ${m}`))
  }
  const off = events.on('tick', chain)
  events.tick(1)
  expect(heard).toEqual(['chain 1'])
  off()
  events.tick(2)
  expect(heard).toEqual(['chain 1', 'late 2'])
})

test('a listener that throws does not stop the others', () => {
  const events = new Events()
  const heard: number[] = []
  const errors: unknown[] = []
  const original = console.error
  console.error = (...args: unknown[]) => errors.push(args)
  try {
    events.on('tick', () => {
      throw new Error('application bug')
    })
    events.on('tick', (n) => heard.push(n))
    events.tick(7)
  } finally {
    console.error = original
  }
  expect(heard).toEqual([7])
  expect(errors).toHaveLength(1)
})
