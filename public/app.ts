// The test page: wires the client library to the DOM. Bundled for the browser by src/page/assets.ts.
import { SwitchboardClient, SwitchboardError, type Format, type IncomingMessage, type StateChange, type Target } from '../src/client'
import { MessagesView, type ShownMessage } from './messages-view'
import { HttpError, rest, useToken, type Conversations } from './rest'

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T
const el = {
  connectForm: $<HTMLFormElement>('connect-form'),
  userId: $<HTMLInputElement>('user-id'),
  format: $<HTMLSelectElement>('format'),
  token: $<HTMLInputElement>('token'),
  connect: $<HTMLButtonElement>('connect'),
  state: $<HTMLParagraphElement>('state'),
  notice: $<HTMLParagraphElement>('notice'),
  online: $<HTMLUListElement>('online-users'),
  conversations: $<HTMLUListElement>('conversations'),
  title: $<HTMLHeadingElement>('chat-title'),
  messages: $<HTMLOListElement>('messages'),
  typing: $<HTMLParagraphElement>('typing'),
  composer: $<HTMLFormElement>('composer'),
  recipient: $<HTMLInputElement>('recipient'),
  recipients: $<HTMLDataListElement>('recipients'),
  message: $<HTMLInputElement>('message'),
  send: $<HTMLButtonElement>('send'),
}

let client: SwitchboardClient | null = null
let me = 0
let view: MessagesView | null = null
/** The open conversation and its paging cursor. */
let open: { key: string; target: Target; before: number | null; loading: boolean } | null = null
const names = new Map<string, string>()
const typers = new Map<number, ReturnType<typeof setTimeout> | true>()
const readSent = new Set<number>()

// --- small helpers ---------------------------------------------------------------------------

const keyOf = (t: Target) => (t.group_id !== undefined ? `g:${t.group_id}` : `u:${t.recipient_id}`)
const targetOfKey = (key: string): Target => (key.startsWith('g:') ? { group_id: Number(key.slice(2)) } : { recipient_id: Number(key.slice(2)) })
/** The conversation a message belongs to, from this user's side. */
const keyOfMessage = (m: { sender_id: number; recipient_id?: number; group_id?: number }) =>
  m.group_id !== undefined ? `g:${m.group_id}` : `u:${m.sender_id === me ? m.recipient_id : m.sender_id}`

/** "2" or "g:1" (also "u:2", "group 1") to a target; null when it is neither. */
function parseRecipient(text: string): Target | null {
  const s = text.trim().toLowerCase()
  let match = /^(?:u:?|user\s*)?(\d+)$/.exec(s)
  if (match) return Number(match[1]) > 0 ? { recipient_id: Number(match[1]) } : null
  match = /^(?:g:?|group\s*)(\d+)$/.exec(s)
  if (match) return Number(match[1]) > 0 ? { group_id: Number(match[1]) } : null
  return null
}

function nameOfKey(key: string): string {
  return names.get(key) ?? (key.startsWith('g:') ? `group ${key.slice(2)}` : `user ${key.slice(2)}`)
}
const nameOfUser = (id: number) => nameOfKey(`u:${id}`)

/** Fetches display names once; re-renders what shows them. */
async function learnName(key: string): Promise<void> {
  if (names.has(key)) return
  names.set(key, nameOfKey(key))
  try {
    const id = Number(key.slice(2))
    if (key.startsWith('g:')) names.set(key, `# ${(await rest.group(id)).name}`)
    else {
      const u = await rest.user(id)
      names.set(key, `${u.display_name ?? u.username} (${u.id})`)
    }
    renderRecipientOptions()
    if (open?.key === key) el.title.textContent = nameOfKey(key)
  } catch {}
}

function notify(text: string | null): void {
  el.notice.hidden = !text
  el.notice.textContent = text ?? ''
}

function describe(error: unknown): string {
  if (error instanceof SwitchboardError || error instanceof HttpError) return error.message
  return String(error)
}

// --- connection ------------------------------------------------------------------------------

el.connectForm.addEventListener('submit', async (event) => {
  event.preventDefault()
  if (client) return disconnect()
  const userId = Number(el.userId.value)
  if (!Number.isInteger(userId) || userId < 1) return notify('User ID must be a positive whole number')
  useToken(el.token.value.trim())
  try {
    const user = await rest.user(userId)
    names.set(`u:${userId}`, `${user.display_name ?? user.username} (${user.id})`)
  } catch (error) {
    return notify(`Cannot connect: ${describe(error)}`)
  }
  notify(null)
  connect(userId, el.format.value as Format)
})

// Switching the format reconnects with the other framing; the conversation stays open.
el.format.addEventListener('change', () => {
  if (!client) return
  const userId = me
  disconnect()
  connect(userId, el.format.value as Format)
})

function connect(userId: number, format: Format): void {
  // The same user (a format switch) keeps the open conversation; another user starts empty.
  const reopen = userId === me ? open?.target : undefined
  open = null
  me = userId
  el.messages.replaceChildren()
  el.title.textContent = 'No conversation open'
  view = new MessagesView(el.messages, me, nameOfUser)
  const token = el.token.value.trim() || undefined
  const c = new SwitchboardClient({ url: location.origin, userId, format, presence: true, token })
  client = c
  let syncs = 0
  c.on('state', showState)
  c.on('message', onMessage)
  c.on('message_status', (s) => view?.updateStatus(s.message_id, s.status, s.user_id))
  c.on('read_receipt', (r) => {
    if (r.group_id !== undefined) view?.groupRead(r.group_id, r.message_id, r.reader_id)
    else view?.updateStatus(r.message_id, 'read')
  })
  c.on('typing', (t) => {
    if (!open || keyOfMessage(t) !== open.key || t.sender_id === me) return
    if (t.is_typing) typers.set(t.sender_id, true)
    else typers.delete(t.sender_id)
    renderTyping()
  })
  c.on('online', renderOnline)
  c.on('error', (e) => notify(`Server: ${e.message} (${e.code})`))
  c.on('synced', () => {
    // After a reconnect, statuses that changed meanwhile come from REST (status frames are not replayed).
    if (syncs++ > 0 && open) void loadNewest()
    refreshConversations()
  })
  el.connect.textContent = 'Disconnect'
  el.userId.disabled = true
  el.token.disabled = true
  el.send.disabled = false
  document.title = `${nameOfUser(me)} · Switchboard`
  void c.connect()
  if (reopen) void openConversation(reopen)
}

function disconnect(): void {
  client?.close()
  client = null
  el.connect.textContent = 'Connect'
  el.userId.disabled = false
  el.token.disabled = false
  el.send.disabled = true
  renderOnline([])
  el.conversations.innerHTML = '<li class="empty">connect to see them</li>'
  typers.clear()
  renderTyping()
}

function showState(s: StateChange): void {
  el.state.dataset.state = s.state
  const format = el.format.value === 'msgpack' ? 'MessagePack' : 'JSON'
  el.state.textContent =
    s.state === 'open' ? `open · ${format}`
    : s.state === 'reconnecting' ? `reconnecting (attempt ${s.attempt}, in ${((s.delayMs ?? 0) / 1000).toFixed(1)} s)`
    : s.state === 'connecting' ? 'connecting…'
    : s.state === 'closed' ? 'not connected'
    : s.state
  if (s.state === 'reconnecting') {
    typers.clear()
    renderTyping()
  }
}

// --- conversations ---------------------------------------------------------------------------

let refreshTimer: ReturnType<typeof setTimeout> | null = null
/** Unread counts come from the server; a burst of events makes one request. */
function refreshConversations(): void {
  if (refreshTimer) clearTimeout(refreshTimer)
  refreshTimer = setTimeout(async () => {
    refreshTimer = null
    if (!client) return
    try {
      renderConversations(await rest.conversations(me))
    } catch {}
  }, 150)
}

function renderConversations(list: Conversations): void {
  el.conversations.replaceChildren()
  if (!list.conversations.length) el.conversations.innerHTML = '<li class="empty">none yet</li>'
  for (const c of list.conversations) {
    const key = c.group_id !== undefined ? `g:${c.group_id}` : `u:${c.other_user_id}`
    void learnName(key)
    const li = document.createElement('li')
    const button = document.createElement('button')
    button.type = 'button'
    button.className = 'conv'
    if (open?.key === key) button.setAttribute('aria-current', 'true')
    button.dataset.key = key
    const name = document.createElement('span')
    name.className = 'name'
    name.textContent = nameOfKey(key)
    const last = document.createElement('span')
    last.className = 'last'
    last.textContent = c.last_message ? `${c.last_message.sender_id === me ? 'You: ' : ''}${c.last_message.message}` : ''
    button.append(name, last)
    if (c.unread_count > 0) {
      const badge = document.createElement('span')
      badge.className = 'unread'
      badge.textContent = String(c.unread_count)
      badge.setAttribute('aria-label', `${c.unread_count} unread`)
      button.append(badge)
    }
    button.addEventListener('click', () => void openConversation(targetOfKey(key)))
    li.append(button)
    el.conversations.append(li)
  }
}

function renderOnline(ids: number[]): void {
  el.online.replaceChildren()
  if (!ids.length) el.online.innerHTML = `<li class="empty">${client ? 'nobody' : 'connect to see who is online'}</li>`
  for (const id of ids) {
    void learnName(`u:${id}`)
    const li = document.createElement('li')
    const button = document.createElement('button')
    button.type = 'button'
    button.className = 'person'
    button.dataset.userId = String(id)
    button.textContent = id === me ? `${nameOfUser(id)} · you` : nameOfUser(id)
    button.disabled = id === me
    button.addEventListener('click', () => void openConversation({ recipient_id: id }))
    li.append(button)
    el.online.append(li)
  }
  renderRecipientOptions()
}

function renderRecipientOptions(): void {
  const keys = new Set<string>([...names.keys()].filter((k) => k !== `u:${me}`))
  el.recipients.replaceChildren(
    ...[...keys].map((k) => Object.assign(document.createElement('option'), { value: k.startsWith('g:') ? k : k.slice(2), label: nameOfKey(k) })),
  )
  for (const b of el.online.querySelectorAll<HTMLButtonElement>('button.person')) {
    const id = Number(b.dataset.userId)
    b.textContent = id === me ? `${nameOfUser(id)} · you` : nameOfUser(id)
  }
  for (const b of el.conversations.querySelectorAll<HTMLButtonElement>('button.conv')) b.querySelector('.name')!.textContent = nameOfKey(b.dataset.key!)
}

// --- the open conversation -------------------------------------------------------------------

async function openConversation(target: Target): Promise<void> {
  if (!client || !view) return notify('Connect first')
  const key = keyOf(target)
  el.recipient.value = target.group_id !== undefined ? key : String(target.recipient_id)
  if (open?.key === key && el.messages.childElementCount) return
  open = { key, target, before: null, loading: false }
  view.clear()
  typers.clear()
  renderTyping()
  el.title.textContent = nameOfKey(key)
  void learnName(key)
  for (const b of el.conversations.querySelectorAll<HTMLButtonElement>('button.conv'))
    b.toggleAttribute('aria-current', b.dataset.key === key)
  await loadNewest()
  el.messages.scrollTop = el.messages.scrollHeight
}

/** The newest page, merged into what is shown (also after a reconnect, to refresh statuses). */
async function loadNewest(): Promise<void> {
  const current = open
  if (!current || !view) return
  try {
    const page = await rest.history(me, current.target)
    if (open !== current) return
    if (current.before === null) current.before = page.has_more && page.next_cursor && 'before' in page.next_cursor ? page.next_cursor.before : null
    for (const m of page.messages) view.upsert({ ...m, status: m.status })
    markShownRead()
    notify(null)
    fillViewport(current)
  } catch (error) {
    notify(`Cannot open the conversation: ${describe(error)}`)
  }
}

/** Older pages as the list is scrolled to the top. */
async function loadOlder(): Promise<void> {
  const current = open
  if (!current || !view || current.loading || current.before === null) return
  current.loading = true
  try {
    const page = await rest.history(me, current.target, current.before)
    if (open !== current) return
    const fromBottom = el.messages.scrollHeight - el.messages.scrollTop
    for (const m of page.messages) view.upsert({ ...m, status: m.status })
    el.messages.scrollTop = el.messages.scrollHeight - fromBottom
    current.before = page.has_more && page.next_cursor && 'before' in page.next_cursor ? page.next_cursor.before : null
    markShownRead()
  } finally {
    current.loading = false
  }
  fillViewport(current)
}

/** A first page too short to scroll could never page in the rest: load until it scrolls. */
function fillViewport(current: NonNullable<typeof open>): void {
  if (open === current && current.before !== null && el.messages.scrollHeight <= el.messages.clientHeight + 60) void loadOlder()
}

el.messages.addEventListener('scroll', () => {
  if (el.messages.scrollTop < 60) void loadOlder()
})

/** Sends read receipts for what this page shows, while it is visible. */
function markShownRead(): void {
  if (!client || !open || document.visibilityState !== 'visible') return
  const unread = [...el.messages.querySelectorAll<HTMLLIElement>('li.msg.theirs')].filter(
    (li) => li.dataset.id && li.dataset.status !== 'read' && !readSent.has(Number(li.dataset.id)),
  )
  if (!unread.length) return
  // A group read mark covers everything before it, so the newest is enough there.
  const ids = unread.map((li) => Number(li.dataset.id))
  for (const id of open.target.group_id !== undefined ? [Math.max(...ids)] : ids) {
    readSent.add(id)
    client.markRead(id)
  }
  for (const li of unread) li.dataset.status = 'read'
  refreshConversations()
}
document.addEventListener('visibilitychange', markShownRead)

function onMessage(m: IncomingMessage): void {
  const key = keyOfMessage(m)
  void learnName(key)
  if (!open) void openConversation(targetOfKey(key))
  else if (open.key === key && view) {
    const atBottom = el.messages.scrollHeight - el.messages.scrollTop - el.messages.clientHeight < 80
    view.upsert({ ...m, status: m.sender_id === me ? 'delivered' : m.status })
    if (typers.delete(m.sender_id)) renderTyping()
    if (atBottom || m.sender_id === me) el.messages.scrollTop = el.messages.scrollHeight
    markShownRead()
  }
  refreshConversations()
}

function renderTyping(): void {
  const who = [...typers.keys()].map(nameOfUser)
  el.typing.textContent = !who.length ? '' : who.length === 1 ? `${who[0]} is typing…` : `${who.join(' and ')} are typing…`
}

// --- composing -------------------------------------------------------------------------------

el.recipient.addEventListener('change', () => {
  const target = parseRecipient(el.recipient.value)
  if (!target) return notify('Recipient: a user id like 2, or g:1 for group 1')
  notify(null)
  void openConversation(target)
})

el.message.addEventListener('input', () => {
  const target = parseRecipient(el.recipient.value)
  if (!client || !target) return
  if (el.message.value.trim()) client.typing(target)
  else client.stopTyping(target)
})

el.composer.addEventListener('submit', (event) => {
  event.preventDefault()
  const target = parseRecipient(el.recipient.value)
  if (!client || !view) return notify('Connect first')
  if (!target) return notify('Recipient: a user id like 2, or g:1 for group 1')
  const text = el.message.value
  if (!text.trim()) return
  if (open?.key !== keyOf(target)) void openConversation(target)
  el.message.value = ''
  const clientId = client.newClientId()
  const pending = client.send(target, text, { clientId })
  // The bubble appears at once ("sending") and its tick follows the server's confirmations.
  const shown: ShownMessage = {
    sender_id: me,
    message: text,
    timestamp: new Date().toISOString(),
    status: 'sending',
    client_id: clientId,
    ...(target.group_id !== undefined ? { group_id: target.group_id } : {}),
  }
  if (open?.key === keyOf(target)) view.upsert(shown)
  el.messages.scrollTop = el.messages.scrollHeight
  pending.then(
    (result) => {
      if (open?.key === keyOf(target)) view?.upsert({ ...shown, id: result.message_id, client_id: result.client_id, status: result.status })
      refreshConversations()
    },
    (error: SwitchboardError) => {
      view?.failed(shown.client_id!, error.message)
      notify(`Not sent: ${error.message}`)
    },
  )
})

// Convenience for people (and tests): ?user=2&format=msgpack pre-fills the form.
const params = new URLSearchParams(location.search)
if (params.get('user')) el.userId.value = params.get('user')!
if (params.get('format') === 'msgpack') el.format.value = 'msgpack'
