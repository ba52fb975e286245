import { describe, expect, test } from 'bun:test'
import { isPrivateAddress, urlRefusal } from '../../src/webhooks/addresses'

// Special-purpose ranges: RFC 6890 (IPv4) and RFC 4291 / RFC 4193 (IPv6).
const blocked: [string, string][] = [
  ['127.0.0.1', 'IPv4 loopback'],
  ['127.255.255.254', 'the end of 127/8'],
  ['10.0.0.1', '10/8'],
  ['10.255.255.255', 'the end of 10/8'],
  ['172.16.0.1', 'the start of 172.16/12'],
  ['172.31.255.255', 'the end of 172.16/12'],
  ['192.168.0.1', '192.168/16'],
  ['192.168.255.255', 'the end of 192.168/16'],
  ['169.254.169.254', 'link-local: the cloud metadata address'],
  ['169.254.0.1', 'link-local'],
  ['100.64.0.1', '100.64/10, carrier-grade NAT (RFC 6598): inside a provider, not the internet'],
  ['100.127.255.255', 'the end of 100.64/10'],
  ['0.0.0.0', 'unspecified: connects to this machine on Linux'],
  ['0.1.2.3', '0/8'],
  ['255.255.255.255', 'broadcast'],
  ['224.0.0.1', 'multicast'],
  ['::1', 'IPv6 loopback'],
  ['::', 'IPv6 unspecified'],
  ['fe80::1', 'IPv6 link-local'],
  ['febf:ffff::1', 'the end of fe80::/10'],
  ['fe80::1%eth0', 'link-local with a zone'],
  ['fc00::1', 'unique-local fc00::/7'],
  ['fd12:3456:789a::1', 'unique-local fd00::/8'],
  ['ff02::1', 'IPv6 multicast'],
  ['::ffff:127.0.0.1', 'IPv4-mapped loopback'],
  ['::ffff:7f00:1', 'IPv4-mapped loopback, in hex (the form the URL parser gives)'],
  ['::ffff:169.254.169.254', 'IPv4-mapped metadata address'],
  ['::ffff:10.1.2.3', 'IPv4-mapped 10/8'],
  ['::127.0.0.1', 'IPv4-compatible loopback'],
  ['64:ff9b::127.0.0.1', 'NAT64 of loopback'],
  ['not-an-ip', 'not an address at all'],
]

const allowed: [string, string][] = [
  ['8.8.8.8', 'public IPv4'],
  ['1.1.1.1', 'public IPv4'],
  ['172.15.255.255', 'just below 172.16/12'],
  ['172.32.0.1', 'just above 172.16/12'],
  ['100.63.255.255', 'just below 100.64/10'],
  ['100.128.0.1', 'just above 100.64/10'],
  ['169.253.255.255', 'just below 169.254/16'],
  ['11.0.0.1', 'just above 10/8'],
  ['2001:4860:4860::8888', 'public IPv6'],
  ['::ffff:8.8.8.8', 'IPv4-mapped public address'],
  ['64:ff9b::8.8.8.8', 'NAT64 of a public address'],
  ['2606:4700::1111', 'public IPv6 (Cloudflare)'],
]

describe('isPrivateAddress', () => {
  test.each(blocked)('%s is refused (%s)', (address) => {
    expect(isPrivateAddress(address)).toBe(true)
  })
  test.each(allowed)('%s is allowed (%s)', (address) => {
    expect(isPrivateAddress(address)).toBe(false)
  })
})

describe('urlRefusal', () => {
  // The WHATWG URL parser normalizes these before the check sees them: each must still be refused.
  test.each([
    'http://127.0.0.1/',
    'http://2130706433/', // 127.0.0.1 as one number
    'http://0x7f.1/', // 127.0.0.1 in hex, short form
    'http://0/', // 0.0.0.0
    'http://[::ffff:127.0.0.1]/',
    'http://[::1]:8080/',
    'http://[fe80::1]/',
    'http://169.254.169.254/latest/meta-data/',
    'http://100.64.0.1/',
    'http://localhost/',
  ])('%s is refused', async (url) => {
    expect(await urlRefusal(url, false)).toMatch(/private|loopback/)
  })

  test('public literal addresses are accepted; WEBHOOK_ALLOW_PRIVATE lets private ones through', async () => {
    expect(await urlRefusal('https://8.8.8.8/hook', false)).toBeNull()
    expect(await urlRefusal('https://[2001:4860:4860::8888]/hook', false)).toBeNull()
    expect(await urlRefusal('http://127.0.0.1/hook', true)).toBeNull()
  })

  test('not http(s), or with credentials: refused even when private addresses are allowed', async () => {
    expect(await urlRefusal('ftp://8.8.8.8/', true)).toBe('not an http(s) URL')
    expect(await urlRefusal('http://user:pw@8.8.8.8/', true)).toBe('credentials in the URL are not allowed')
    expect(await urlRefusal('nope', true)).toBe('not a URL')
  })
})
