// "Search messages": GET /messages/search over the user's conversations, newest first; picking a
// result opens its conversation at that message.
import type { Target } from '../src/client'
import type { Names } from './names'
import { HttpError, rest, type SearchHit } from './rest'

export interface SearchElements {
  input: HTMLInputElement
  results: HTMLUListElement
}

export interface SearchActions {
  /** Opens the conversation of a result and shows the message in it. */
  reveal(target: Target, messageId: number): void
}

const PAGE = 20

export class SearchBox {
  private me = 0
  private hits: SearchHit[] = []
  private before: number | null = null
  private error: string | null = null
  private timer: ReturnType<typeof setTimeout> | null = null
  /** Answers to an older query (the person kept typing) are dropped. */
  private generation = 0

  constructor(
    private readonly el: SearchElements,
    private readonly names: Names,
    private readonly actions: SearchActions,
  ) {
    el.input.addEventListener('input', () => {
      if (this.timer) clearTimeout(this.timer)
      this.timer = setTimeout(() => void this.search(), 250)
    })
  }

  start(me: number): void {
    this.me = me
    this.el.input.disabled = false
    this.clear()
  }

  stop(): void {
    this.el.input.disabled = true
    this.clear()
  }

  private clear(): void {
    this.generation++
    this.el.input.value = ''
    this.hits = []
    this.before = null
    this.error = null
    this.render()
  }

  /** A new query from the top, or the next page of the current one. */
  private async search(more = false): Promise<void> {
    const q = this.el.input.value.trim()
    const generation = ++this.generation
    if (!more) {
      this.hits = []
      this.before = null
      this.error = null
    }
    if (!q) return this.render()
    try {
      const page = await rest.search(this.me, q, more ? (this.before ?? undefined) : undefined, PAGE)
      if (generation !== this.generation) return
      this.hits.push(...page.results)
      this.before = page.next_cursor?.before ?? null
    } catch (error) {
      if (generation !== this.generation) return
      // invalid_query says what is wrong with the query ("a quote (") is not closed…").
      this.error = error instanceof HttpError ? error.message : String(error)
    }
    this.render()
  }

  /** The results again (also when a name was learned). */
  render(): void {
    const { results } = this.el
    results.hidden = !this.el.input.value.trim()
    if (this.error) {
      results.innerHTML = ''
      const li = document.createElement('li')
      li.className = 'empty'
      li.textContent = this.error
      return void results.append(li)
    }
    results.replaceChildren(...this.hits.map((hit) => this.item(hit)))
    if (!this.hits.length) results.innerHTML = '<li class="empty">no messages found</li>'
    if (this.before !== null) {
      const li = document.createElement('li')
      const more = document.createElement('button')
      more.type = 'button'
      more.className = 'quiet small more'
      more.textContent = 'More results'
      more.addEventListener('click', () => void this.search(true))
      li.append(more)
      results.append(li)
    }
  }

  private item({ message: m, snippet }: SearchHit): HTMLLIElement {
    const target: Target = m.group_id !== undefined ? { group_id: m.group_id } : { recipient_id: m.sender_id === this.me ? m.recipient_id! : m.sender_id }
    if (target.group_id !== undefined) this.names.learnGroup(target.group_id)
    else this.names.learnUser(target.recipient_id!)
    if (m.group_id !== undefined) this.names.learnUser(m.sender_id)
    const li = document.createElement('li')
    const button = document.createElement('button')
    button.type = 'button'
    button.className = 'hit'
    button.dataset.id = String(m.id)
    const name = document.createElement('span')
    name.className = 'name'
    name.textContent = target.group_id !== undefined ? `# ${this.names.group(target.group_id)}` : this.names.person(target.recipient_id!)
    const when = document.createElement('time')
    when.dateTime = m.timestamp
    when.textContent = new Date(m.timestamp).toLocaleDateString([], { month: 'short', day: 'numeric' })
    const text = document.createElement('span')
    text.className = 'snippet'
    const from = m.sender_id === this.me ? 'You: ' : m.group_id !== undefined ? `${this.names.user(m.sender_id)}: ` : ''
    // The server's snippet is HTML-escaped text with <mark> around the matched words only.
    text.innerHTML = escapeText(from) + snippet
    button.append(name, when, text)
    button.addEventListener('click', () => this.actions.reveal(target, m.id))
    li.append(button)
    return li
  }
}

function escapeText(s: string): string {
  const span = document.createElement('span')
  span.textContent = s
  return span.innerHTML
}
