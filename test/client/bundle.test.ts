import { expect, test } from 'bun:test'
import { startServer } from '../helpers/server'

// The library must run in a browser: the bundle has no Node built-ins and is served as JavaScript.
test('the client library and the page are bundled for browsers and served from memory', async () => {
  await using server = await startServer()
  for (const path of ['/public/client.js', '/public/app.js']) {
    const res = await fetch(server.url + path)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toStartWith('text/javascript')
    const code = await res.text()
    expect(code).not.toMatch(/\bfrom\s*["']node:|require\(["']node:|\bprocess\.env\b/)
  }
  const lib = await (await fetch(server.url + '/public/client.js')).text()
  expect(lib).toContain('SwitchboardClient')
  const page = await fetch(server.url + '/')
  expect(await page.text()).toContain('<script type="module" src="/public/app.js">')
  expect((await fetch(server.url + '/public/style.css')).status).toBe(200)
})
