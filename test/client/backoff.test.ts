import { expect, test } from 'bun:test'
import { backoffDelay } from '../../src/client'

const options = { initialDelayMs: 100, maxDelayMs: 1000 }

test.each([
  // attempt, lowest (random 0), highest (random 1)
  [1, 50, 100],
  [2, 100, 200],
  [3, 200, 400],
  [4, 400, 800],
  [5, 500, 1000], // capped
  [50, 500, 1000], // no overflow far out
])('attempt %i waits between %i and %i ms', (attempt, low, high) => {
  expect(backoffDelay(attempt, options, () => 0)).toBe(low)
  expect(backoffDelay(attempt, options, () => 1)).toBe(high)
  const d = backoffDelay(attempt, options)
  expect(d).toBeGreaterThanOrEqual(low)
  expect(d).toBeLessThanOrEqual(high)
})
