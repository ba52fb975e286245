// "Start a chat": the people (GET /users, searched and paged) and the groups of the user, picked by
// name; and "New group", where the same list becomes checkboxes for the members.
import type { Target } from '../src/client'
import type { Names } from './names'
import { rest, type Group, type User } from './rest'

export interface DirectoryElements {
  find: HTMLInputElement
  list: HTMLUListElement
  newGroupToggle: HTMLButtonElement
  newGroup: HTMLFormElement
  groupName: HTMLInputElement
  groupPicked: HTMLParagraphElement
}

export interface DirectoryActions {
  open(target: Target): void
  created(group: Group): void
  notify(text: string | null): void
}

const PAGE = 20

export class Directory {
  private me = 0
  private query = ''
  private people: User[] = []
  /** The cursor of the next page of people, null when there is none. */
  private nextAfter: number | null = null
  private groupIds = new Set<number>()
  /** New-group mode: the list shows checkboxes, `picked` holds the ticked user ids. */
  private picking = false
  private picked = new Set<number>()
  private searchTimer: ReturnType<typeof setTimeout> | null = null
  private loading: Promise<void> = Promise.resolve()
  /** Answers to an older search (the person kept typing) are dropped. */
  private generation = 0

  constructor(
    private readonly el: DirectoryElements,
    private readonly names: Names,
    private readonly actions: DirectoryActions,
  ) {
    el.find.addEventListener('input', () => this.searchSoon())
    el.find.addEventListener('keydown', (event) => {
      if (event.key !== 'Enter') return
      event.preventDefault()
      if (!this.picking) void this.pickFirst()
    })
    el.newGroupToggle.addEventListener('click', () => this.setPicking(!this.picking))
    el.newGroup.querySelector<HTMLButtonElement>('#cancel-group')!.addEventListener('click', () => this.setPicking(false))
    el.newGroup.addEventListener('submit', (event) => {
      event.preventDefault()
      void this.createGroup()
    })
  }

  /** Connected as `me`: lists everyone. */
  start(me: number): void {
    this.me = me
    this.groupIds.clear()
    this.setPicking(false)
    this.el.find.disabled = false
    this.el.newGroupToggle.disabled = false
    this.el.find.value = ''
    this.query = ''
    this.search()
  }

  stop(): void {
    this.generation++
    this.setPicking(false)
    this.el.find.disabled = true
    this.el.newGroupToggle.disabled = true
    this.people = []
    this.nextAfter = null
    this.el.list.innerHTML = '<li class="empty">connect to see people</li>'
  }

  /** Groups the user is in (from the connection, the conversation list, a message). */
  addGroups(ids: Iterable<number>): void {
    let added = false
    for (const id of ids) {
      if (this.groupIds.has(id)) continue
      this.groupIds.add(id)
      this.names.learnGroup(id)
      added = true
    }
    if (added) this.render()
  }

  /** A group the user was removed from. */
  removeGroup(id: number): void {
    if (this.groupIds.delete(id)) this.render()
  }

  render(): void {
    if (this.el.find.disabled) return
    const items: HTMLLIElement[] = []
    const q = this.query.toLowerCase()
    if (!this.picking)
      for (const id of [...this.groupIds].sort((a, b) => a - b)) {
        const name = this.names.group(id)
        if (!q || name.toLowerCase().includes(q)) items.push(this.pickItem(`g:${id}`, 'group', name, 'group'))
      }
    for (const u of this.people) {
      if (this.picking && u.id === this.me) continue
      const name = u.id === this.me ? this.names.person(u.id) : this.names.user(u.id)
      const sub = u.display_name ? `@${u.username}` : ''
      items.push(this.picking ? this.memberItem(u.id, name, sub) : this.pickItem(`u:${u.id}`, 'user', name, sub))
    }
    if (!items.length) {
      const empty = document.createElement('li')
      empty.className = 'empty'
      empty.textContent = this.query ? `Nobody matches “${this.query}”` : 'nobody yet'
      items.push(empty)
    }
    if (this.nextAfter !== null) {
      const li = document.createElement('li')
      const more = document.createElement('button')
      more.type = 'button'
      more.className = 'more quiet small'
      more.textContent = 'More people'
      more.addEventListener('click', () => void this.loadMore())
      li.append(more)
      items.push(li)
    }
    const focused = (document.activeElement as HTMLElement | null)?.dataset?.key
    this.el.list.replaceChildren(...items)
    if (focused) this.el.list.querySelector<HTMLElement>(`[data-key="${focused}"]`)?.focus()
    this.showPicked()
  }

  private pickItem(key: string, kind: 'user' | 'group', name: string, sub: string): HTMLLIElement {
    const li = document.createElement('li')
    const button = document.createElement('button')
    button.type = 'button'
    button.className = 'pick'
    button.dataset.key = key
    button.dataset.kind = kind
    const label = document.createElement('span')
    label.className = 'name'
    label.textContent = name
    button.append(label)
    if (sub) button.append(Object.assign(document.createElement('span'), { className: 'sub', textContent: sub }))
    const id = Number(key.slice(2))
    button.addEventListener('click', () => this.actions.open(kind === 'group' ? { group_id: id } : { recipient_id: id }))
    li.append(button)
    return li
  }

  private memberItem(id: number, name: string, sub: string): HTMLLIElement {
    const li = document.createElement('li')
    const label = document.createElement('label')
    label.className = 'pick member'
    const box = document.createElement('input')
    box.type = 'checkbox'
    box.value = String(id)
    box.checked = this.picked.has(id)
    box.addEventListener('change', () => {
      if (box.checked) this.picked.add(id)
      else this.picked.delete(id)
      this.showPicked()
    })
    label.append(box, Object.assign(document.createElement('span'), { className: 'name', textContent: name }))
    if (sub) label.append(Object.assign(document.createElement('span'), { className: 'sub', textContent: sub }))
    li.append(label)
    return li
  }

  private setPicking(on: boolean): void {
    this.picking = on
    this.picked.clear()
    this.el.newGroup.hidden = !on
    this.el.newGroupToggle.setAttribute('aria-expanded', String(on))
    this.el.groupName.value = ''
    this.render()
    if (on) this.el.groupName.focus()
  }

  private showPicked(): void {
    const picked = [...this.picked].map((id) => this.names.user(id))
    this.el.groupPicked.textContent = picked.length ? `With you and ${picked.join(', ')}` : 'Tick the people to add below.'
  }

  private searchSoon(): void {
    if (this.searchTimer) clearTimeout(this.searchTimer)
    // Held until typing pauses, so a name typed quickly is one request.
    this.searchTimer = setTimeout(() => this.search(), 150)
  }

  private search(): void {
    if (this.searchTimer) clearTimeout(this.searchTimer)
    this.searchTimer = null
    this.query = this.el.find.value.trim()
    this.loading = this.load(false)
  }

  private loadMore(): Promise<void> {
    return (this.loading = this.load(true))
  }

  private async load(more: boolean): Promise<void> {
    const generation = ++this.generation
    try {
      const page = await rest.users(this.query, more ? (this.nextAfter ?? undefined) : undefined, PAGE)
      if (generation !== this.generation) return
      for (const u of page.users) this.names.rememberUser(u)
      this.people = more ? [...this.people, ...page.users] : page.users
      this.nextAfter = page.next_cursor?.after ?? null
      this.render()
    } catch (error) {
      if (generation === this.generation) this.actions.notify(`Cannot list people: ${(error as Error).message}`)
    }
  }

  /** Enter in the search field opens the first match, once the search typed so far has answered. */
  private async pickFirst(): Promise<void> {
    if (this.searchTimer || this.el.find.value.trim() !== this.query) this.search()
    await this.loading
    this.el.list.querySelector<HTMLButtonElement>('button.pick')?.click()
  }

  private async createGroup(): Promise<void> {
    const name = this.el.groupName.value.trim()
    if (!name) return this.actions.notify('Give the group a name')
    if (!this.picked.size) return this.actions.notify('Tick at least one person to add')
    try {
      const group = await rest.createGroup({ name, member_ids: [this.me, ...this.picked], created_by: this.me })
      this.names.rememberGroup(group)
      this.actions.notify(null)
      this.setPicking(false)
      this.addGroups([group.id])
      this.actions.created(group)
    } catch (error) {
      this.actions.notify(`Cannot create the group: ${(error as Error).message}`)
    }
  }
}
