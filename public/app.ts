// The test page: wires the client library to the DOM. Bundled for the browser by src/page/assets.ts.
import { SwitchboardClient, SwitchboardError, type Attachment, type Format, type IncomingMessage, type MembershipChange, type StateChange, type Target, type TypingEvent } from '../src/client'
import { Directory } from './directory'
import { MessagesView, type AttachmentLoader, type MessageActions, type ShownMessage } from './messages-view'
import { Names } from './names'
import { HttpError, rest, useToken, type Conversations } from './rest'
import { SearchBox } from './search'
import { enableNotifications, pushSupported } from './notify'
import { forgetSession, loadSession, saveSession } from './session'

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T
const el = {
  connectForm: $<HTMLFormElement>('connect-form'),
  userId: $<HTMLInputElement>('user-id'),
  format: $<HTMLSelectElement>('format'),
  token: $<HTMLInputElement>('token'),
  notify: $<HTMLButtonElement>('notify'),
  meName: $<HTMLSpanElement>('me-name'),
  connect: $<HTMLButtonElement>('connect'),
  forget: $<HTMLButtonElement>('forget'),
  state: $<HTMLParagraphElement>('state'),
  notice: $<HTMLParagraphElement>('notice'),
  online: $<HTMLUListElement>('online-users'),
  conversations: $<HTMLUListElement>('conversations'),
  back: $<HTMLButtonElement>('back'),
  title: $<HTMLHeadingElement>('chat-title'),
  messages: $<HTMLOListElement>('messages'),
  typing: $<HTMLParagraphElement>('typing'),
  composer: $<HTMLFormElement>('composer'),
  message: $<HTMLInputElement>('message'),
  send: $<HTMLButtonElement>('send'),
  composeContext: $<HTMLDivElement>('compose-context'),
  composeContextText: $<HTMLSpanElement>('compose-context-text'),
  composeCancel: $<HTMLButtonElement>('compose-cancel'),
  attach: $<HTMLButtonElement>('attach'),
  file: $<HTMLInputElement>('file'),
}

let client: SwitchboardClient | null = null
let me = 0
let view: MessagesView | null = null
/** The open conversation and its paging cursor. */
let open: { key: string; target: Target; before: number | null; loading: boolean } | null = null
/** Who is typing, per conversation key, in every conversation (not only the open one). */
const typing = new Map<string, Set<number>>()
const readSent = new Set<number>()
let conversations: Conversations['conversations'] = []
let online: number[] = []
/** What the composer does on submit besides sending: edit a message of mine, or reply to one. */
let composing: { kind: 'edit' | 'reply'; id: number } | null = null
/** The open conversation's members (for `@name` mentions); empty until known. */
let members: number[] = []

const names = new Names(renderNames)
const directory = new Directory(
  {
    find: $<HTMLInputElement>('find'),
    list: $<HTMLUListElement>('directory'),
    newGroupToggle: $<HTMLButtonElement>('new-group-toggle'),
    newGroup: $<HTMLFormElement>('new-group'),
    groupName: $<HTMLInputElement>('group-name'),
    groupPicked: $<HTMLParagraphElement>('group-picked'),
  },
  names,
  {
    open: (target) => void openConversation(target, true),
    created: (group) => {
      refreshConversations()
      void openConversation({ group_id: group.id }, true)
    },
    notify,
  },
)

const search = new SearchBox(
  { input: $<HTMLInputElement>('search'), results: $<HTMLUListElement>('search-results') },
  names,
  { reveal: (target, messageId) => void revealMessage(target, messageId) },
)

// --- small helpers ---------------------------------------------------------------------------

const keyOf = (t: Target) => (t.group_id !== undefined ? `g:${t.group_id}` : `u:${t.recipient_id}`)
const targetOfKey = (key: string): Target => (key.startsWith('g:') ? { group_id: Number(key.slice(2)) } : { recipient_id: Number(key.slice(2)) })
/** The conversation a message or typing frame belongs to, from this user's side. */
const keyOfMessage = (m: { sender_id: number; recipient_id?: number; group_id?: number }) =>
  m.group_id !== undefined ? `g:${m.group_id}` : `u:${m.sender_id === me ? m.recipient_id : m.sender_id}`

/** A conversation's name: the group's, or the other person's ("… (you)" for notes to self). */
function nameOfKey(key: string): string {
  const id = Number(key.slice(2))
  return key.startsWith('g:') ? names.group(id) : names.person(id)
}

function learnKey(key: string): void {
  const id = Number(key.slice(2))
  if (key.startsWith('g:')) names.learnGroup(id)
  else names.learnUser(id)
}

function notify(text: string | null): void {
  el.notice.hidden = !text
  el.notice.textContent = text ?? ''
}

function describe(error: unknown): string {
  if (error instanceof SwitchboardError || error instanceof HttpError) return error.message
  return String(error)
}

/** On a phone one pane shows at a time: the lists, or the open conversation. */
function showPane(pane: 'list' | 'chat'): void {
  document.body.dataset.pane = pane
  if (pane === 'chat') markShownRead()
}

/** Whether the open conversation is on screen (on a phone the list may cover it). */
const chatShown = () => el.messages.offsetParent !== null

el.back.addEventListener('click', () => showPane('list'))

// --- connection ------------------------------------------------------------------------------

el.connectForm.addEventListener('submit', (event) => {
  event.preventDefault()
  if (client) return disconnect()
  void signIn(Number(el.userId.value), el.format.value as Format, el.token.value.trim())
})

/** Checks the user (and the token) over REST, remembers them for the next visit, connects. */
async function signIn(userId: number, format: Format, token: string): Promise<void> {
  if (!Number.isInteger(userId) || userId < 1) return notify('User ID must be a positive whole number')
  useToken(token)
  try {
    names.rememberUser(await rest.user(userId))
  } catch (error) {
    return notify(`Cannot connect: ${describe(error)}`)
  }
  notify(null)
  saveSession({ userId, format, ...(token ? { token } : {}) })
  el.forget.hidden = false
  connect(userId, format)
}

// Switching the format reconnects with the other framing; the conversation stays open.
el.format.addEventListener('change', () => {
  if (!client) return
  const userId = me
  disconnect()
  saveSession({ userId, format: el.format.value as Format, ...(el.token.value.trim() ? { token: el.token.value.trim() } : {}) })
  connect(userId, el.format.value as Format)
})

// Permission is asked on a click, as browsers require; the button says how it went.
el.notify.addEventListener('click', () => {
  if (me === null) return
  el.notify.disabled = true
  enableNotifications(me)
    .then(() => (el.notify.textContent = 'Notifications on'))
    .catch((error) => notify(`Notifications: ${error instanceof Error ? error.message : String(error)}`))
    .finally(() => (el.notify.disabled = false))
})

el.forget.addEventListener('click', () => {
  forgetSession()
  if (client) disconnect()
  el.token.value = ''
  el.forget.hidden = true
})

function connect(userId: number, format: Format): void {
  // The same user (a format switch) keeps the open conversation; another user starts empty.
  const reopen = userId === me ? open?.target : undefined
  if (userId !== me) readSent.clear()
  open = null
  me = userId
  names.reset(me)
  el.messages.replaceChildren()
  el.title.textContent = 'No conversation open'
  delete el.title.dataset.kind
  if (!reopen) showPane('list')
  view = new MessagesView(el.messages, me, (id) => names.user(id), messageActions, attachmentLoader)
  const token = el.token.value.trim() || undefined
  const c = new SwitchboardClient({ url: location.origin, userId, format, presence: true, token })
  client = c
  c.on('state', showState)
  c.on('established', (frame) => directory.addGroups(frame.groups))
  c.on('message', onMessage)
  // Statuses, receipts and membership come from the event stream, replayed after a reconnect
  // (resumed with since): the page does not refetch history to repair them.
  c.on('message_status', (s) => {
    // 'delivered' arrives once the recipient's device confirmed it, turning ✓ into ✓✓.
    view?.updateStatus(s.message_id, s.status, s.user_id)
    if (s.status === 'read' && s.user_id !== undefined) recountSoon()
  })
  c.on('read_receipt', (r) => {
    if (r.group_id === undefined) return view?.updateStatus(r.message_id, 'read')
    view?.groupRead(r.group_id, r.message_id, r.reader_id)
    recountSoon()
  })
  // Edits, deletes and reactions are events of the stream too: after a reconnect the ones missed
  // arrive in the catch-up, so what is shown converges without refetching history.
  c.on('message_edited', (e) => {
    view?.edited(e.message_id, e.message)
    refreshConversations()
  })
  c.on('message_deleted', (e) => {
    view?.deleted(e.message_id)
    if (composing?.id === e.message_id) stopComposing()
    refreshConversations()
  })
  c.on('reaction_added', (r) => view?.reaction(r.message_id, r.user_id, r.emoji, true))
  c.on('reaction_removed', (r) => view?.reaction(r.message_id, r.user_id, r.emoji, false))
  c.on('typing', onTyping)
  c.on('online', renderOnline)
  c.on('error', (e) => notify(`Server: ${e.message} (${e.code})`))
  c.on('membership', onMembership)
  c.on('resync_required', () => {
    // The server no longer holds the status events since our resume point: ask REST once.
    if (open) void loadNewest()
    refreshConversations()
  })
  c.on('synced', () => refreshConversations())
  el.connect.textContent = 'Disconnect'
  el.notify.hidden = !pushSupported()
  el.userId.disabled = true
  el.token.disabled = true
  document.body.classList.add('connected')
  el.meName.hidden = false
  renderNames()
  directory.start(me)
  search.start(me)
  void c.connect()
  if (reopen) void openConversation(reopen)
}

function disconnect(): void {
  client?.close()
  client = null
  el.connect.textContent = 'Connect'
  el.notify.hidden = true
  el.userId.disabled = false
  el.token.disabled = false
  el.send.disabled = true
  el.attach.disabled = true
  el.message.disabled = true
  document.body.classList.remove('connected')
  el.meName.hidden = true
  renderOnline([])
  conversations = []
  el.conversations.innerHTML = '<li class="empty">connect to see them</li>'
  directory.stop()
  search.stop()
  typing.clear()
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
    typing.clear()
    renderTyping()
  }
}

/** Everything that shows a name, again: one was learned. */
function renderNames(): void {
  if (me) {
    el.meName.textContent = names.user(me)
    document.title = `${names.user(me)} · Switchboard`
  }
  if (open) el.title.textContent = nameOfKey(open.key)
  if (open) el.message.placeholder = `Message ${nameOfKey(open.key)}`
  view?.refreshNames()
  directory.render()
  search.render()
  if (client) renderOnline(online)
  renderTyping() // and the conversation list
}

// --- typing ----------------------------------------------------------------------------------

function onTyping(t: TypingEvent): void {
  if (t.sender_id === me) return
  const key = keyOfMessage(t)
  let who = typing.get(key)
  if (t.is_typing) {
    if (!who) typing.set(key, (who = new Set()))
    who.add(t.sender_id)
    names.learnUser(t.sender_id)
  } else if (who) {
    who.delete(t.sender_id)
    if (!who.size) typing.delete(key)
  }
  renderTyping()
}

/** "Bob is typing…", "Bob and Carol are typing…"; empty when nobody is. */
function typingText(key: string): string {
  const who = [...(typing.get(key) ?? [])].map((id) => names.user(id))
  if (!who.length) return ''
  if (who.length === 1) return `${who[0]} is typing…`
  if (who.length === 2) return `${who[0]} and ${who[1]} are typing…`
  return `${who.length} people are typing…`
}

/** The open conversation's line under the messages, and every conversation's line in the list. */
function renderTyping(): void {
  el.typing.textContent = open ? typingText(open.key) : ''
  if (client) renderConversations()
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
      conversations = (await rest.conversations(me)).conversations
      directory.addGroups(conversations.flatMap((c) => (c.group_id !== undefined ? [c.group_id] : [])))
      renderConversations()
    } catch {}
  }, 150)
}

type Conversation = Conversations['conversations'][number]

/** The list from the server, with a provisional entry on top for someone typing in a conversation it does not have yet. */
function renderConversations(): void {
  const listed = new Map<string, Conversation | null>()
  for (const key of typing.keys()) listed.set(key, null)
  for (const c of conversations) {
    const key = c.group_id !== undefined ? `g:${c.group_id}` : `u:${c.other_user_id}`
    if (listed.has(key) && listed.get(key) === null) listed.delete(key)
    listed.set(key, c)
  }
  // Typing-only entries first, then the server's order.
  const keys = [...listed.keys()].sort((a, b) => Number(listed.get(a) !== null) - Number(listed.get(b) !== null))
  const focused = (document.activeElement as HTMLElement | null)?.closest?.<HTMLElement>('#conversations button.conv')?.dataset.key
  el.conversations.replaceChildren(...keys.map((key) => conversationItem(key, listed.get(key)!)))
  if (!keys.length) el.conversations.innerHTML = '<li class="empty">none yet</li>'
  if (focused) el.conversations.querySelector<HTMLElement>(`button.conv[data-key="${focused}"]`)?.focus()
}

function conversationItem(key: string, c: Conversation | null): HTMLLIElement {
  learnKey(key)
  const li = document.createElement('li')
  const button = document.createElement('button')
  button.type = 'button'
  button.className = 'conv'
  if (open?.key === key) button.setAttribute('aria-current', 'true')
  button.dataset.key = key
  button.dataset.kind = key.startsWith('g:') ? 'group' : 'user'
  const name = document.createElement('span')
  name.className = 'name'
  name.textContent = nameOfKey(key)
  const last = document.createElement('span')
  last.className = 'last'
  const typingNow = typingText(key)
  if (typingNow) {
    last.classList.add('typing-now')
    last.textContent = key.startsWith('g:') ? typingNow : 'typing…'
  } else if (c?.last_message) {
    const m = c.last_message
    if (m.group_id !== undefined && m.sender_id !== me) names.learnUser(m.sender_id)
    const from = m.sender_id === me ? 'You: ' : m.group_id !== undefined ? `${names.user(m.sender_id)}: ` : ''
    last.textContent = from + (m.message || (m.attachments ?? []).map((a) => `📎 ${a.name}`).join(', '))
  }
  button.append(name, last)
  if (c && c.mention_count > 0) {
    const badge = document.createElement('span')
    badge.className = 'mentions'
    badge.textContent = `@${c.mention_count}`
    badge.setAttribute('aria-label', `${c.mention_count} unread ${c.mention_count === 1 ? 'mention' : 'mentions'}`)
    button.append(badge)
  }
  if (c && c.unread_count > 0) {
    const badge = document.createElement('span')
    badge.className = 'unread'
    badge.textContent = String(c.unread_count)
    badge.setAttribute('aria-label', `${c.unread_count} unread`)
    button.append(badge)
  }
  button.addEventListener('click', () => void openConversation(targetOfKey(key), true))
  li.append(button)
  return li
}

function renderOnline(ids: number[]): void {
  online = ids
  el.online.replaceChildren()
  if (!ids.length) el.online.innerHTML = `<li class="empty">${client ? 'nobody' : 'connect to see who is online'}</li>`
  for (const id of ids) {
    names.learnUser(id)
    const li = document.createElement('li')
    const button = document.createElement('button')
    button.type = 'button'
    button.className = 'person'
    button.dataset.userId = String(id)
    button.textContent = names.person(id)
    button.addEventListener('click', () => void openConversation({ recipient_id: id }, true))
    li.append(button)
    el.online.append(li)
  }
}

// --- the open conversation -------------------------------------------------------------------

/** Opens a conversation; `show` brings it on screen on a phone (a person picked it, not a message that arrived). */
async function openConversation(target: Target, show = false): Promise<void> {
  if (!client || !view) return notify('Connect first')
  const key = keyOf(target)
  if (show) showPane('chat')
  if (open?.key === key && el.messages.childElementCount) return
  const previous = open
  if (previous && previous.key !== key) client.stopTyping(previous.target)
  open = { key, target, before: null, loading: false }
  view.clear()
  stopComposing()
  void loadMembers(open)
  el.title.textContent = nameOfKey(key)
  el.title.dataset.kind = key.startsWith('g:') ? 'group' : 'user'
  el.message.placeholder = `Message ${nameOfKey(key)}`
  el.message.disabled = false
  el.send.disabled = false
  el.attach.disabled = false
  learnKey(key)
  renderTyping()
  await loadNewest()
  el.messages.scrollTop = el.messages.scrollHeight
  if (show) el.message.focus()
}

/** Opens a conversation at one of its messages (a search result): older pages load until it is shown. */
async function revealMessage(target: Target, messageId: number): Promise<void> {
  await openConversation(target, true)
  const current = open
  if (!current || !view) return
  // A page at a time, as scrolling up loads them; a message hundreds of pages back is not chased.
  for (let pages = 0; open === current && !view.has(messageId) && pages < 50; pages++) {
    if (current.loading) await new Promise((resolve) => setTimeout(resolve, 50))
    else if (current.before === null) break
    else await loadOlder()
  }
  const li = el.messages.querySelector<HTMLLIElement>(`li.msg[data-id="${messageId}"]`)
  if (!li || open !== current) return notify('That message is too far back to show here; scroll up to find it')
  for (const shown of el.messages.querySelectorAll('li.msg.found')) shown.classList.remove('found')
  li.classList.add('found')
  li.scrollIntoView({ block: 'center' })
}

/** The newest page, merged into what is shown (on opening, on resync_required, and to recount bare read counts). */
async function loadNewest(): Promise<void> {
  const current = open
  if (!current || !view) return
  try {
    const page = await rest.history(me, current.target)
    if (open !== current) return
    if (current.before === null) current.before = page.has_more && page.next_cursor && 'before' in page.next_cursor ? page.next_cursor.before : null
    showPage(page.messages)
    markShownRead()
    notify(null)
    fillViewport(current)
  } catch (error) {
    notify(`Cannot open the conversation: ${describe(error)}`)
  }
}

function showPage(messages: ShownMessage[]): void {
  for (const m of messages) {
    if (m.group_id !== undefined && m.sender_id !== me) names.learnUser(m.sender_id)
    // History's reactions replace what is shown (none when absent).
    view!.upsert({ ...m, reactions: m.reactions ?? [] })
  }
}

let recountTimer: ReturnType<typeof setTimeout> | null = null
/**
 * A group receipt after a bare count came from the server (no `read_by`): that count may already
 * include this reader, so the exact count is asked again (once for a burst of receipts).
 */
function recountSoon(): void {
  if (!view?.hasCountsWithoutReaders() || open?.target.group_id === undefined) return
  if (recountTimer) clearTimeout(recountTimer)
  recountTimer = setTimeout(() => {
    recountTimer = null
    void loadNewest()
  }, 300)
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
    showPage(page.messages)
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

/** Sends read receipts for what this page shows, while it is visible; in notes to self, for one's own too. */
function markShownRead(): void {
  if (!client || !open || document.visibilityState !== 'visible' || !chatShown()) return
  const notesToSelf = open.key === `u:${me}`
  const unread = [...el.messages.querySelectorAll<HTMLLIElement>(notesToSelf ? 'li.msg' : 'li.msg.theirs')].filter(
    (li) => li.dataset.id && li.dataset.status !== 'read' && !readSent.has(Number(li.dataset.id)),
  )
  if (!unread.length) return
  // A group read mark covers everything before it, so the newest is enough there.
  const ids = unread.map((li) => Number(li.dataset.id))
  for (const id of open.target.group_id !== undefined ? [Math.max(...ids)] : ids) {
    readSent.add(id)
    client.markRead(id)
  }
  // One's own notes turn read with the receipt, like any message of one's own.
  for (const li of unread) if (li.classList.contains('theirs')) li.dataset.status = 'read'
  refreshConversations()
}
document.addEventListener('visibilitychange', markShownRead)

function onMessage(m: IncomingMessage): void {
  const key = keyOfMessage(m)
  learnKey(key)
  if (m.group_id !== undefined) {
    names.learnUser(m.sender_id)
    directory.addGroups([m.group_id])
  }
  // A note to self written elsewhere (another tab, a script) was read by its writer.
  if (m.sender_id === me && m.recipient_id === me && !readSent.has(m.id)) {
    readSent.add(m.id)
    client?.markRead(m.id)
  }
  if (!open) void openConversation(targetOfKey(key))
  else if (open.key === key && view) {
    const atBottom = el.messages.scrollHeight - el.messages.scrollTop - el.messages.clientHeight < 80
    // One's own message from another device shows its stored status; message_status moves it on.
    view.upsert(m)
    if (atBottom || m.sender_id === me) el.messages.scrollTop = el.messages.scrollHeight
    markShownRead()
  }
  refreshConversations()
}

/** This user was added to a group (it appears) or removed from one (it goes, and closes if open). */
function onMembership(change: MembershipChange): void {
  if (change.user_id !== me) return
  if (change.member) directory.addGroups([change.group_id])
  else {
    directory.removeGroup(change.group_id)
    // The history stays on screen; nothing more can be sent to the group.
    if (open?.key === `g:${change.group_id}`) {
      client?.stopTyping(open.target)
      el.message.disabled = true
      el.send.disabled = true
      notify('You are no longer a member of this group')
    }
  }
  refreshConversations()
}

// --- editing, deleting, reacting, replying, mentioning ----------------------------------------

/** What a bubble's buttons do: each goes through the client; the change shows when its event arrives. */
const messageActions: MessageActions = {
  react(id, emoji, add) {
    if (!client) return
    ;(add ? client.react(id, emoji) : client.unreact(id, emoji)).catch((e) => notify(`Reaction not saved: ${describe(e)}`))
  },
  reply(id) {
    startComposing('reply', id)
  },
  edit(id) {
    startComposing('edit', id)
    el.message.value = view?.textOf(id) ?? ''
  },
  delete(id) {
    client?.delete(id).catch((e) => notify(`Not deleted: ${describe(e)}`))
  },
}

function startComposing(kind: 'edit' | 'reply', id: number): void {
  composing = { kind, id }
  const text = view?.textOf(id) ?? ''
  const short = text.length > 50 ? `${text.slice(0, 50)}…` : text
  el.composeContextText.textContent = kind === 'edit' ? `Editing: ${short}` : `Replying to: ${short}`
  el.composeContext.dataset.kind = kind
  el.composeContext.hidden = false
  el.send.textContent = kind === 'edit' ? 'Save' : 'Send'
  el.message.focus()
}

function stopComposing(): void {
  if (composing?.kind === 'edit') el.message.value = ''
  composing = null
  el.composeContext.hidden = true
  el.send.textContent = 'Send'
}

el.composeCancel.addEventListener('click', () => stopComposing())
el.message.addEventListener('keydown', (event) => {
  if (event.key === 'Escape' && composing) stopComposing()
})

/** The open conversation's members, for mentions: a group's from the server, else the two of us. */
async function loadMembers(current: NonNullable<typeof open>): Promise<void> {
  members = current.target.group_id === undefined ? [current.target.recipient_id!] : []
  if (current.target.group_id === undefined) return
  try {
    const group = await rest.group(current.target.group_id)
    if (open !== current) return
    members = group.member_ids
    for (const id of members) names.learnUser(id)
  } catch {}
}

/** Members named as `@name` in the text (their display name or its first word, without spaces, any case). */
function mentionsIn(text: string): number[] {
  const words = new Set([...text.matchAll(/@([\p{L}\p{N}_.-]+)/gu)].map((m) => m[1].toLowerCase().replace(/[.-]+$/, '')))
  if (!words.size) return []
  return members.filter((id) => {
    const name = names.user(id).toLowerCase()
    return id !== me && (words.has(name.replace(/\s+/g, '')) || words.has(name.split(/\s+/)[0]))
  })
}

function closeConversation(): void {
  if (open) client?.stopTyping(open.target)
  open = null
  view?.clear()
  el.title.textContent = 'No conversation open'
  delete el.title.dataset.kind
  el.message.disabled = true
  el.send.disabled = true
  el.attach.disabled = true
  renderTyping()
  showPane('list')
}

// --- composing -------------------------------------------------------------------------------

el.message.addEventListener('input', () => {
  if (!client || !open) return
  if (el.message.value.trim()) client.typing(open.target)
  else client.stopTyping(open.target)
})

el.composer.addEventListener('submit', (event) => {
  event.preventDefault()
  if (!client || !view) return notify('Connect first')
  if (!open) return notify('Pick someone to write to')
  const text = el.message.value
  if (!text.trim()) return
  const target = open.target
  const key = open.key
  const mode = composing
  el.message.value = ''
  stopComposing()
  if (mode?.kind === 'edit') {
    client.edit(mode.id, text).catch((e) => notify(`Not edited: ${describe(e)}`))
    return
  }
  const clientId = client.newClientId()
  const mentionIds = mentionsIn(text)
  const pending = client.send(target, text, { clientId, mentionIds, ...(mode ? { replyToId: mode.id } : {}) })
  // The bubble appears at once ("sending") and its tick follows the server's confirmations.
  const shown: ShownMessage = {
    sender_id: me,
    message: text,
    timestamp: new Date().toISOString(),
    status: 'sending',
    client_id: clientId,
    ...(mode ? { reply_to_id: mode.id } : {}),
    ...(target.group_id !== undefined ? { group_id: target.group_id } : {}),
  }
  view.upsert(shown)
  el.messages.scrollTop = el.messages.scrollHeight
  pending.then(
    (result) => {
      if (open?.key === key) {
        view?.upsert({ ...shown, id: result.message_id, client_id: result.client_id, status: result.status })
        markShownRead()
      }
      refreshConversations()
    },
    (error: SwitchboardError) => {
      view?.failed(shown.client_id!, error.message)
      notify(`Not sent: ${error.message}`)
    },
  )
})

// --- attachments -----------------------------------------------------------------------------

/** Object URLs of fetched previews, by attachment id: a bubble shown again reuses its image. */
const previews = new Map<string, Promise<string>>()
const attachmentLoader: AttachmentLoader = {
  preview(a) {
    let url = previews.get(a.id)
    if (!url) {
      if (!client) return Promise.reject(new Error('not connected'))
      url = client.download(a, { thumbnail: true }).catch(() => client!.download(a)).then((blob) => URL.createObjectURL(blob))
      previews.set(a.id, url)
    }
    return url
  },
  async save(a) {
    if (!client) return
    try {
      const url = URL.createObjectURL(await client.download(a))
      const link = document.createElement('a')
      link.href = url
      link.download = a.name
      link.click()
      setTimeout(() => URL.revokeObjectURL(url), 60_000)
    } catch (error) {
      notify(`Cannot download ${a.name}: ${describe(error)}`)
    }
  },
}

/** Uploads a file and sends it to the open conversation at once, with what is typed as its caption. */
async function sendFile(file: File): Promise<void> {
  if (!client || !view || !open) return notify('Pick someone to write to')
  const target = open.target
  const key = open.key
  const caption = el.message.value
  el.attach.disabled = true
  notify(`Uploading ${file.name || 'the image'}…`)
  let attachment: Attachment
  try {
    attachment = await client.upload(file, file.name || 'pasted.png')
  } catch (error) {
    return notify(`Not uploaded: ${describe(error)}`)
  } finally {
    el.attach.disabled = !open
  }
  notify(null)
  el.message.value = ''
  const clientId = client.newClientId()
  const shown: ShownMessage = {
    sender_id: me,
    message: caption,
    timestamp: new Date().toISOString(),
    status: 'sending',
    client_id: clientId,
    attachments: [attachment],
    ...(target.group_id !== undefined ? { group_id: target.group_id } : {}),
  }
  if (open?.key === key) view.upsert(shown)
  el.messages.scrollTop = el.messages.scrollHeight
  try {
    const result = await client.send(target, caption, { clientId, attachmentIds: [attachment.id] })
    if (open?.key === key) view?.upsert({ ...shown, id: result.message_id, client_id: result.client_id, status: result.status })
    refreshConversations()
  } catch (error) {
    view?.failed(clientId, (error as Error).message)
    notify(`Not sent: ${(error as Error).message}`)
  }
}

el.attach.addEventListener('click', () => el.file.click())
el.file.addEventListener('change', () => {
  const file = el.file.files?.[0]
  el.file.value = ''
  if (file) void sendFile(file)
})
// A pasted image (a screenshot) is sent like an attached file.
el.message.addEventListener('paste', (event) => {
  const image = [...(event.clipboardData?.files ?? [])].find((f) => f.type.startsWith('image/'))
  if (!image) return
  event.preventDefault()
  void sendFile(image)
})

// --- start -----------------------------------------------------------------------------------

// ?user=2&format=msgpack pre-fills the form (for people and tests); otherwise a remembered session connects again.
const params = new URLSearchParams(location.search)
const saved = loadSession()
if (saved) el.forget.hidden = false
if (params.get('user') || params.get('format')) {
  if (params.get('user')) el.userId.value = params.get('user')!
  if (params.get('format') === 'msgpack') el.format.value = 'msgpack'
} else if (saved) {
  el.userId.value = String(saved.userId)
  el.format.value = saved.format
  el.token.value = saved.token ?? ''
  void signIn(saved.userId, saved.format, saved.token ?? '')
}
