// A message that would show as nothing: zero-width characters, bidi controls, variation selectors,
// fillers, controls and Unicode spaces, alone or mixed. Refused as empty on REST and on the
// WebSocket alike (one check, in MessagingService.prepare); text with anything visible is stored.
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { startServer, type TestServer, storedMessages } from '../helpers/server'
import { TestClient } from '../helpers/ws-client'

let server: TestServer
beforeAll(async () => {
  server = await startServer()
})
afterAll(() => server?.[Symbol.asyncDispose]())

/** [what, text that shows nothing] */
const invisible: [string, string][] = [
  ['zero-width space', '\u200b'],
  ['zero-width non-joiner', '\u200c'],
  ['zero-width joiner', '\u200d'],
  ['word joiner', '\u2060'],
  ['byte order mark', '\ufeff'],
  ['soft hyphen', '\u00ad'],
  ['a variation selector alone', '\ufe0f'],
  ['a supplementary variation selector alone', '\u{e0100}'],
  ['ideographic space', '\u3000'],
  ['no-break space', '\u00a0'],
  ['right-to-left override', '\u202e'],
  ['bidi isolates', '\u2066\u2067\u2068\u2069'],
  ['left-to-right and right-to-left marks', '\u200e\u200f'],
  ['Arabic letter mark', '\u061c'],
  ['Mongolian vowel separator', '\u180e'],
  ['Hangul fillers', '\u3164\u115f\u1160\uffa0'],
  ['the blank braille pattern', '\u2800'],
  ['tag characters', '\u{e0020}\u{e007f}'],
  ['interlinear annotation marks', '\ufff9\ufffb'],
  ['NUL and BEL', '\u0000\u0007'],
  ['next line (C1 control)', '\u0085'],
  ['line and paragraph separators', '\u2028\u2029'],
  ['a mix with ASCII white space', ' \u200b\t\u200d\n\u3000\ufe0f '],
  ['4000 zero-width spaces', '\u200b'.repeat(4000)],
]

/** Text with something visible in it, however little. */
const visible = ['a\u200b', '\u200b0', '👍', '👨\u200d👩\u200d👧', '\u2764\ufe0f', 'مرحبا', '你好', '\u00a0.', 'e\u0301', '\u3164x']

test('REST: a message of invisible characters only is 400 empty_message; one with anything visible is stored', async () => {
  const answers: Record<string, string> = {}
  for (const [what, message] of invisible) {
    const res = await fetch(`${server.url}/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sender_id: 1, recipient_id: 2, message }) })
    answers[what] = `${res.status} ${((await res.json()) as any).error?.code}`
  }
  expect(answers).toEqual(Object.fromEntries(invisible.map(([what]) => [what, '400 empty_message'])))
  expect(await storedMessages(server.store)).toBe(0)
  for (const message of visible) {
    const res = await fetch(`${server.url}/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sender_id: 1, recipient_id: 2, message }) })
    expect({ message, status: res.status }).toEqual({ message, status: 201 })
    expect(((await res.json()) as any).message).toBe(message)
  }
})

test('WebSocket: the same messages get the error frame empty_message, and nothing reaches the recipient', async () => {
  const alice = await TestClient.connect(server.wsUrl, '/ws/1')
  // After what the REST test stored: bob's backlog is not what this test is about.
  const bob = await TestClient.connect(server.wsUrl, `/ws/2?since=${await server.store.lastSeq()}`)
  const answers: Record<string, string> = {}
  for (const [what, message] of invisible) {
    alice.send({ type: 'message', recipient_id: 2, message })
    answers[what] = (await alice.next('error')).code
  }
  expect(answers).toEqual(Object.fromEntries(invisible.map(([what]) => [what, 'empty_message'])))
  expect(await bob.collect('message', 100)).toEqual([])
  alice.send({ type: 'message', recipient_id: 2, message: '\u200bvisible' })
  expect((await bob.next('message')).message).toBe('\u200bvisible')
  alice.close()
  bob.close()
})
