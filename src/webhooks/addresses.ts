/** Which webhook URLs may be called: none that resolves to this machine or a private network. */
import { lookup } from 'node:dns/promises'
import { isIP } from 'node:net'

const V4_BLOCKED: [number, number][] = [
  [0x00000000, 8], // 0.0.0.0/8 "this network"
  [0x0a000000, 8], // 10/8
  [0x64400000, 10], // 100.64/10 carrier-grade NAT
  [0x7f000000, 8], // loopback
  [0xa9fe0000, 16], // link-local (cloud metadata lives at 169.254.169.254)
  [0xac100000, 12], // 172.16/12
  [0xc0000000, 24], // 192.0.0/24 IETF protocol assignments
  [0xc0a80000, 16], // 192.168/16
  [0xc6120000, 15], // 198.18/15 benchmarking
  [0xe0000000, 3], // multicast and reserved, 224/3 (with 255.255.255.255)
]

function v4Number(address: string): number {
  return address.split('.').reduce((n, part) => n * 256 + Number(part), 0)
}

function blockedV4(address: string): boolean {
  const n = v4Number(address)
  return V4_BLOCKED.some(([net, bits]) => Math.floor(n / 2 ** (32 - bits)) === Math.floor(net / 2 ** (32 - bits)))
}

/** The 8 groups of an IPv6 address as numbers. */
function v6Groups(address: string): number[] {
  let text = address.toLowerCase().split('%')[0]
  const tail: number[] = []
  const v4 = text.match(/(\d+\.\d+\.\d+\.\d+)$/)
  if (v4) {
    const n = v4Number(v4[1])
    tail.push(Math.floor(n / 65536), n % 65536)
    text = text.slice(0, -v4[1].length)
    if (text.endsWith(':') && !text.endsWith('::')) text = text.slice(0, -1)
  }
  const [head, rest] = text.includes('::') ? text.split('::') : [text, undefined]
  const left = head ? head.split(':').filter(Boolean).map((g) => parseInt(g, 16)) : []
  const right = rest ? rest.split(':').filter(Boolean).map((g) => parseInt(g, 16)) : []
  const missing = 8 - left.length - right.length - tail.length
  return [...left, ...(rest !== undefined ? new Array(Math.max(missing, 0)).fill(0) : []), ...right, ...tail]
}

/** Loopback, link-local, private, unique-local, unspecified, multicast: IPv4, IPv6 and IPv4 inside IPv6. */
export function isPrivateAddress(address: string): boolean {
  const version = isIP(address.split('%')[0])
  if (version === 4) return blockedV4(address)
  if (version !== 6) return true
  const g = v6Groups(address)
  if (g.slice(0, 7).every((x) => x === 0) && g[7] <= 1) return true // :: and ::1
  // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible, deprecated): the IPv4 rules decide.
  if (g.slice(0, 5).every((x) => x === 0) && (g[5] === 0xffff || g[5] === 0)) return blockedV4(`${g[6] >> 8}.${g[6] & 255}.${g[7] >> 8}.${g[7] & 255}`)
  // 64:ff9b::/96 NAT64 carries an IPv4 address too.
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return blockedV4(`${g[6] >> 8}.${g[6] & 255}.${g[7] >> 8}.${g[7] & 255}`)
  if ((g[0] & 0xffc0) === 0xfe80) return true // link-local fe80::/10
  if ((g[0] & 0xffc0) === 0xfec0) return true // site-local fec0::/10 (deprecated)
  if ((g[0] & 0xfe00) === 0xfc00) return true // unique-local fc00::/7
  if ((g[0] & 0xff00) === 0xff00) return true // multicast
  return false
}

/** Why a webhook URL may not be called (not http(s), or an address it resolves to is private), or null. */
export async function urlRefusal(url: string, allowPrivate: boolean): Promise<string | null> {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return 'not a URL'
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return 'not an http(s) URL'
  if (parsed.username || parsed.password) return 'credentials in the URL are not allowed'
  if (allowPrivate) return null
  const host = parsed.hostname.replace(/^\[|\]$/g, '')
  let addresses: string[]
  try {
    addresses = isIP(host) ? [host] : (await lookup(host, { all: true, verbatim: true })).map((a) => a.address)
  } catch (error) {
    return `cannot resolve ${host}: ${(error as Error).message}`
  }
  const blocked = addresses.find(isPrivateAddress)
  return blocked ? `${host} resolves to ${blocked}, a loopback, link-local or private address (WEBHOOK_ALLOW_PRIVATE=1 allows it)` : null
}
