// Polls <url>/health back to back until its stdin closes, then prints the latencies (ms) as JSON.
// A process of its own, so that a busy test process does not count as a slow server.
const url = process.argv[2]
const latencies: number[] = []
let running = true
;(async () => {
  for await (const _ of process.stdin) {
    // Nothing is sent: the loop ends when the test closes stdin.
  }
  running = false
})()
while (running) {
  const started = performance.now()
  const res = await fetch(`${url}/health`)
  await res.arrayBuffer()
  latencies.push(res.status === 200 ? performance.now() - started : Number.POSITIVE_INFINITY)
  await Bun.sleep(1)
}
console.log(JSON.stringify(latencies))
export {}
