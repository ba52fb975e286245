// @ts-check
// The admin page: polls /admin/api/overview with the token kept in this tab's sessionStorage and
// draws what it gets as numbers, SVG charts and tables. A plain script, served as it is. Every
// value reaches the page as text (textContent, SVG attributes), never as HTML.

const POLL_MS = 1500
/** Five minutes of polls for the line charts; kept in the page only. */
const HISTORY_POINTS = 200
const TOKEN_KEY = 'switchboard-admin-token'
const SVG = 'http://www.w3.org/2000/svg'

/** @type {string | null} */
let token = sessionStorage.getItem(TOKEN_KEY)
/** @type {ReturnType<typeof setTimeout> | null} */
let timer = null
/** @type {{ messages: number[], connections: number[] }} */
const series = { messages: [], connections: [] }

/** @param {string} id */
const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id))

/**
 * @param {string} method
 * @param {string} path
 * @returns {Promise<{ status: number, body: any }>}
 */
async function call(method, path) {
  const res = await fetch(path, { method, headers: token ? { authorization: `Bearer ${token}` } : {}, cache: 'no-store' })
  return { status: res.status, body: await res.json().catch(() => null) }
}

// --- formatting ---

/** @param {number} n */
const rate = (n) => (n === 0 ? '0' : n < 10 ? n.toFixed(1) : String(Math.round(n)))
/** @param {number | null} ms */
const millis = (ms) => (ms === null ? '–' : `${ms < 1 ? ms.toFixed(2) : ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`)
/** @param {number} bytes */
function size(bytes) {
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`
}
/** @param {number | null} le */
const bound = (le) => (le === null ? '' : le >= 1000 ? `${le / 1000}k` : String(le))
/** @param {{ json: number, msgpack: number }} f */
const formats = (f) => [f.json && `JSON ${f.json}`, f.msgpack && `MessagePack ${f.msgpack}`].filter(Boolean).join(' · ')
/** @param {string} iso */
const clock = (iso) => new Date(iso).toLocaleTimeString()

// --- SVG ---

/**
 * @param {string} name
 * @param {Record<string, string | number>} attributes
 * @param {string} [text]
 */
function el(name, attributes, text) {
  const node = document.createElementNS(SVG, name)
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value))
  if (text !== undefined) node.textContent = text
  return node
}

/** Charts are drawn in CSS pixels at the size they are shown, so their text keeps its size on a phone. @param {SVGSVGElement} svg @param {number} height */
function canvas(svg, height) {
  const width = Math.max(200, Math.round(svg.clientWidth || 600))
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`)
  return width
}

/** @param {number} v */
const axis = (v) => String(Number(v.toPrecision(3)))

/** A round number at or above `n`, for an axis top. @param {number} n */
function niceMax(n) {
  if (n <= 1) return 1
  const power = 10 ** Math.floor(Math.log10(n))
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= n) return step * power
  return 10 * power
}

/**
 * A line over the polls so far, newest at the right, with a filled area and a scale. The span
 * shown grows from one minute to HISTORY_POINTS polls, so a fresh page is not a line in a corner.
 * @param {SVGSVGElement} svg
 * @param {number[]} values
 * @param {string} what
 */
function drawLine(svg, values, what) {
  const [H, top, bottom, left] = [150, 10, 18, 0]
  const W = canvas(svg, H)
  const max = niceMax(Math.max(...values, 0))
  const span = Math.min(HISTORY_POINTS, Math.max(values.length, Math.round(60_000 / POLL_MS)))
  const step = W / (span - 1)
  const x = (/** @type {number} */ i) => W - (values.length - 1 - i) * step
  const y = (/** @type {number} */ v) => top + (H - top - bottom) * (1 - v / max)
  /** @type {SVGElement[]} */
  const nodes = []
  for (const fraction of [0, 0.5, 1]) {
    const v = max * fraction
    nodes.push(el('line', { class: 'grid-line', x1: left, x2: W, y1: y(v), y2: y(v) }))
    nodes.push(el('text', { class: 'axis', x: 4, y: y(v) - 3 }, axis(v)))
  }
  nodes.push(el('text', { class: 'axis', x: 0, y: H - 3 }, `−${Math.round(((span - 1) * POLL_MS) / 1000)} s`))
  nodes.push(el('text', { class: 'axis', x: W, y: H - 3, 'text-anchor': 'end' }, 'now'))
  if (values.length > 0) {
    const points = values.map((v, i) => `${x(i).toFixed(1)} ${y(v).toFixed(1)}`)
    const line = `M ${points.join(' L ')}`
    nodes.push(el('path', { class: 'area', d: `${line} L ${x(values.length - 1).toFixed(1)} ${y(0)} L ${x(0).toFixed(1)} ${y(0)} Z` }))
    nodes.push(el('path', { class: 'line', d: line }))
    const last = values[values.length - 1]
    nodes.push(el('circle', { class: 'dot', cx: x(values.length - 1), cy: y(last), r: 3.5 }))
  }
  svg.replaceChildren(...nodes)
  const peak = Math.max(...values, 0)
  svg.setAttribute('aria-label', `${what} over the last ${Math.round((values.length * POLL_MS) / 1000)} s: now ${rate(values.at(-1) ?? 0)}, peak ${rate(peak)}`)
}

/**
 * A histogram as bars, one per bucket, labelled with its upper bound.
 * @param {SVGSVGElement} svg
 * @param {{ le_ms: number | null, count: number }[]} buckets
 * @param {string} what
 */
function drawBars(svg, buckets, what) {
  const [H, bottom, top] = [170, 22, 16]
  const W = canvas(svg, H)
  const max = Math.max(...buckets.map((b) => b.count), 1)
  const slot = W / buckets.length
  // Where the bounds' labels would overlap, every other one is shown (each bar keeps its tooltip).
  const labelEvery = slot < 38 ? 2 : 1
  const nodes = [el('line', { class: 'base-line', x1: 0, x2: W, y1: H - bottom, y2: H - bottom })]
  buckets.forEach((b, i) => {
    const height = ((H - bottom - top) * b.count) / max
    const label = b.le_ms === null ? `>${bound(buckets[i - 1]?.le_ms ?? null)}` : `≤${bound(b.le_ms)}`
    const bar = el('rect', { class: 'bar', x: (i * slot + 3).toFixed(1), y: (H - bottom - height).toFixed(1), width: (slot - 6).toFixed(1), height: height.toFixed(1), rx: 2 })
    bar.append(el('title', {}, `${label} ms: ${b.count}`))
    nodes.push(bar)
    if (i % labelEvery === 0) nodes.push(el('text', { class: 'axis', x: (i * slot + slot / 2).toFixed(1), y: H - 6, 'text-anchor': 'middle' }, label))
    if (b.count > 0) nodes.push(el('text', { class: 'bar-value', x: (i * slot + slot / 2).toFixed(1), y: (H - bottom - height - 4).toFixed(1), 'text-anchor': 'middle' }, String(b.count)))
  })
  svg.replaceChildren(...nodes)
  svg.setAttribute('aria-label', `${what}: ${buckets.filter((b) => b.count).map((b) => `${b.count} at ${b.le_ms === null ? 'more than the last bound' : `≤ ${b.le_ms} ms`}`).join(', ') || 'nothing in the last minute'}`)
}

/**
 * Horizontal bars with a label and a value each (formats, instances).
 * @param {SVGSVGElement} svg
 * @param {{ label: string, value: number, kind: string }[]} rows
 */
function drawRows(svg, rows) {
  const rowHeight = 30
  const W = canvas(svg, Math.max(rows.length, 1) * rowHeight + 6)
  // Room for the longest label (about 8 px a character at 14 px), never more than half the width.
  const labelWidth = Math.min(Math.round(W * 0.5), 12 + 8 * Math.max(...rows.map((r) => r.label.length), 4))
  const max = Math.max(...rows.map((r) => r.value), 1)
  /** @type {SVGElement[]} */
  const nodes = []
  rows.forEach((r, i) => {
    const y = i * rowHeight + 4
    const width = ((W - labelWidth - 60) * r.value) / max
    nodes.push(el('text', { class: 'row-label', x: 0, y: y + 17 }, r.label))
    nodes.push(el('rect', { class: `row-bar ${r.kind}`, x: labelWidth, y, width: Math.max(width, r.value ? 2 : 0).toFixed(1), height: rowHeight - 10, rx: 3 }))
    nodes.push(el('text', { class: 'row-value', x: labelWidth + width + 8, y: y + 16 }, String(r.value)))
  })
  svg.replaceChildren(...nodes)
  svg.setAttribute('aria-label', rows.map((r) => `${r.label} ${r.value}`).join(', '))
}

// --- tables ---

/**
 * @param {string} id
 * @param {string} emptyId
 * @param {HTMLTableRowElement[]} rows
 */
function fillTable(id, emptyId, rows) {
  const body = /** @type {HTMLTableSectionElement} */ (document.querySelector(`#${id} tbody`))
  body.replaceChildren(...rows)
  $(emptyId).hidden = rows.length > 0
  $(id).hidden = rows.length === 0
}

/** @param {(string | Node)[]} cells @param {string[]} [classes] */
function row(cells, classes = []) {
  const tr = document.createElement('tr')
  cells.forEach((cell, i) => {
    const td = document.createElement('td')
    if (classes[i]) td.className = classes[i]
    td.append(cell)
    tr.append(td)
  })
  return tr
}

/** @param {number} userId */
function disconnectButton(userId) {
  const button = document.createElement('button')
  button.type = 'button'
  button.className = 'danger small'
  button.textContent = 'Disconnect'
  button.setAttribute('aria-label', `Disconnect user ${userId}`)
  button.addEventListener('click', () => void disconnect(userId))
  return button
}

/** @param {number} fraction */
function meter(fraction) {
  const outer = document.createElement('span')
  outer.className = 'meter'
  const inner = document.createElement('span')
  inner.style.width = `${Math.min(100, Math.max(2, fraction * 100)).toFixed(1)}%`
  if (fraction > 0.5) inner.className = 'hot'
  outer.append(inner)
  return outer
}

// --- the page ---

/** @type {any} the last overview, redrawn when the window changes size */
let shown = null

/** Keeps the figures the line charts need, then shows the overview. @param {any} o */
function record(o) {
  series.messages.push(o.traffic.messages_per_second)
  series.connections.push(o.connections.total)
  for (const values of Object.values(series)) if (values.length > HISTORY_POINTS) values.shift()
  shown = o
  render(o)
}

/** @param {any} o the overview */
function render(o) {
  const { connections: c, traffic: t, slow_consumers: slow, rate_limited: limited } = o
  $('where').textContent = `instance ${o.instance_id} · ${o.cluster ? `cluster of ${c.instances.length}` : 'single instance'} · ${clock(o.at)}`
  $('connections-total').textContent = String(c.total)
  $('users-online').textContent = String(c.users_online)
  $('messages-rate').textContent = rate(t.messages_per_second)
  $('deliveries-rate').textContent = rate(t.deliveries_per_second)
  $('delivery-p50').textContent = millis(t.delivery.p50_ms)
  $('delivery-p99').textContent = millis(t.delivery.p99_ms)
  $('commit-p99').textContent = millis(t.commit.p99_ms)

  $('rate-span').textContent = `(every ${POLL_MS / 1000} s, each an average over ${t.rate_window_seconds} s)`
  $('connections-span').textContent = `(every ${POLL_MS / 1000} s)`
  drawLine(/** @type {any} */ ($('rate-chart')), series.messages, 'Messages a second')
  drawLine(/** @type {any} */ ($('connections-chart')), series.connections, 'Connections')

  drawBars(/** @type {any} */ ($('latency-chart')), t.delivery.buckets, 'Delivery latency')
  $('latency-caption').textContent = t.delivery.count
    ? `${t.delivery.count} messages · mean ${millis(t.delivery.mean_ms)} · p50 ${millis(t.delivery.p50_ms)} · p90 ${millis(t.delivery.p90_ms)} · p99 ${millis(t.delivery.p99_ms)}`
    : 'No message in the last minute.'
  drawBars(/** @type {any} */ ($('commit-chart')), t.commit.buckets, 'Commit time')
  $('commit-caption').textContent = t.commit.count
    ? `${t.commit.count} commits · mean ${millis(t.commit.mean_ms)} · p50 ${millis(t.commit.p50_ms)} · p99 ${millis(t.commit.p99_ms)}`
    : 'No commit in the last minute.'

  drawRows(/** @type {any} */ ($('format-chart')), [
    { label: 'JSON', value: c.by_format.json, kind: 'json' },
    { label: 'MessagePack', value: c.by_format.msgpack, kind: 'msgpack' },
  ])
  drawRows(
    /** @type {any} */ ($('instances-chart')),
    c.instances.map((/** @type {any} */ i) => ({ label: `${i.instance_id}${i.self ? ' (this one)' : ''}`, value: i.connections, kind: i.self ? 'self' : 'other' })),
  )
  $('instances-caption').textContent = !c.cluster_reachable
    ? 'Redis could not be asked for the other instances: only this one is shown.'
    : o.cluster
      ? c.instances.map((/** @type {any} */ i) => `${i.instance_id}: ${i.users} users, ${formats(i.by_format) || 'no connections'}${i.self ? '' : `, as of ${clock(i.updated_at)}`}`).join(' · ')
      : 'One instance (no REDIS_URL).'

  fillTable(
    'users',
    'users-empty',
    c.users.map((/** @type {any} */ u) => {
      const tr = row([String(u.user_id), String(u.connections), formats(u.by_format), disconnectButton(u.user_id)], ['', 'num', '', 'action'])
      tr.dataset.userId = String(u.user_id)
      return tr
    }),
  )
  fillTable(
    'slow-consumers',
    'slow-empty',
    slow.sockets.map((/** @type {any} */ s) => row([String(s.user_id), `#${s.connection_id}`, s.format, size(s.queued_bytes), meter(s.queued_bytes / slow.limit_bytes)], ['', '', '', 'num', 'meter-col'])),
  )
  $('slow-caption').textContent = `A socket with more than ${size(slow.limit_bytes)} queued is closed with 4002 (SLOW_CONSUMER_BYTES).`
  $('limited-span').textContent = `(last ${Math.round(limited.window_seconds / 60)} min)`
  fillTable(
    'rate-limited',
    'limited-empty',
    limited.users.map((/** @type {any} */ u) =>
      row([String(u.user_id), String(u.refusals), Object.entries(u.by_kind).map(([kind, n]) => `${kind} ${n}`).join(', '), clock(u.last_at)], ['', 'num', '', '']),
    ),
  )
}

/** @param {string} state @param {string} text */
function setState(state, text) {
  const node = $('state')
  node.dataset.state = state
  node.textContent = text
}

/** @param {string} message */
function showLogin(message) {
  if (timer) clearTimeout(timer)
  timer = null
  $('dashboard').hidden = true
  $('sign-out').hidden = true
  $('login').hidden = false
  $('login-error').textContent = message
  setState('idle', 'signed out')
  $('token').focus()
}

function schedule() {
  if (timer) clearTimeout(timer)
  timer = setTimeout(() => void poll(), POLL_MS)
}

async function poll() {
  /** @type {{ status: number, body: any }} */
  let res
  try {
    res = await call('GET', '/admin/api/overview')
  } catch {
    setState('error', 'server unreachable')
    return schedule()
  }
  if (res.status === 401) {
    const refused = token !== null
    token = null
    sessionStorage.removeItem(TOKEN_KEY)
    return showLogin(refused ? 'That token was not accepted.' : '')
  }
  if (res.status !== 200) {
    setState('error', res.body?.error?.message ?? `HTTP ${res.status}`)
    return schedule()
  }
  $('login').hidden = true
  $('dashboard').hidden = false
  $('sign-out').hidden = token === null
  record(res.body)
  setState('live', 'live')
  schedule()
}

/** @param {string} text */
function notify(text) {
  const notice = $('notice')
  notice.textContent = text
  notice.hidden = false
}

/** @param {number} userId */
async function disconnect(userId) {
  if (!confirm(`Disconnect every device of user ${userId}? Their clients may reconnect.`)) return
  const res = await call('POST', `/admin/api/users/${userId}/disconnect`).catch(() => null)
  if (!res) return notify(`Could not reach the server to disconnect user ${userId}.`)
  if (res.status !== 200) return notify(`User ${userId} was not disconnected: ${res.body?.error?.message ?? `HTTP ${res.status}`}`)
  const { closed, other_instances_told: told } = res.body
  notify(`Disconnected: closed ${closed} connection${closed === 1 ? '' : 's'} of user ${userId} here${told ? ', and asked the other instances to close theirs' : ''}.`)
  addEventListener('resize', () => shown && render(shown))

void poll()
}

$('login').addEventListener('submit', (event) => {
  event.preventDefault()
  token = /** @type {HTMLInputElement} */ ($('token')).value.trim()
  sessionStorage.setItem(TOKEN_KEY, token)
  $('login-error').textContent = ''
  void poll()
})

$('disconnect-form').addEventListener('submit', (event) => {
  event.preventDefault()
  const input = /** @type {HTMLInputElement} */ ($('disconnect-id'))
  const userId = Number(input.value)
  if (Number.isInteger(userId) && userId > 0) void disconnect(userId)
})

$('sign-out').addEventListener('click', () => {
  token = null
  sessionStorage.removeItem(TOKEN_KEY)
  showLogin('')
})

void poll()
