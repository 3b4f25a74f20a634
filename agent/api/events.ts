/**
 * GET /events: the agent's observe() events as a live stream, the API's
 * `serf monitor`. Newline-delimited JSON by default; server-sent events when
 * the client asks for text/event-stream (Accept header or ?format=sse).
 * Filters: ?types=gossip,drop and ?topics=plan,event.
 *
 * A slow client never holds the agent up or grows memory without bound: past
 * a buffer limit its events are skipped and counted, and it is told how many
 * it missed (a `lagged` event) once it catches up.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Agent, AgentEvent } from '../agent.ts'
import { EVENT_TYPES, type StreamEvent } from './types.ts'
import { TOPICS } from '../../lib/wire/messages.ts'
import { BadRequestError } from './errors.ts'
import { definedOnly } from '../../lib/defined.ts'

/** Bytes queued for one client before its events are skipped. */
export const STREAM_BUFFER_LIMIT = 1024 * 1024
/** Server-sent events: a comment this often keeps proxies from closing an idle stream. */
export const SSE_KEEPALIVE_MS = 15_000

export interface StreamFilter {
  types?: ReadonlySet<string>
  topics?: ReadonlySet<string>
}

export function parseFilter (url: URL): StreamFilter {
  const list = (name: string, allowed: readonly string[]): ReadonlySet<string> | undefined => {
    const raw = url.searchParams.get(name)
    if (raw === null || raw === '') return undefined
    const items = raw.split(',').map(s => s.trim()).filter(s => s !== '')
    const bad = items.filter(s => !allowed.includes(s))
    if (bad.length > 0) throw new BadRequestError(`${name}: unknown ${bad.map(b => JSON.stringify(b)).join(', ')}; expected some of ${allowed.join(', ')}`)
    return new Set(items)
  }
  const types = list('types', EVENT_TYPES)
  const topics = list('topics', TOPICS)
  return definedOnly({ types, topics })
}

export function matches (e: AgentEvent, f: StreamFilter): boolean {
  if (f.types !== undefined && !f.types.has(e.type)) return false
  if (f.topics !== undefined && (!('topic' in e) || !f.topics.has(e.topic))) return false
  return true
}

export function wantsSse (req: IncomingMessage, url: URL): boolean {
  const format = url.searchParams.get('format')
  if (format === 'sse') return true
  if (format === 'ndjson') return false
  if (format !== null) throw new BadRequestError(`format: expected ndjson or sse, got ${JSON.stringify(format)}`)
  return (req.headers.accept ?? '').includes('text/event-stream')
}

/** One client's stream. Ends when the client goes away or close() is called. */
export class EventStream {
  private readonly res: ServerResponse
  private readonly sse: boolean
  private missed = 0
  private keepalive: ReturnType<typeof setInterval> | undefined
  private unsubscribe: (() => void) | undefined
  private readonly onLag: (n: number) => void

  constructor (res: ServerResponse, sse: boolean, onLag: (n: number) => void) {
    this.res = res
    this.sse = sse
    this.onLag = onLag
  }

  open (agent: Agent, filter: StreamFilter, onClose: () => void): void {
    this.res.writeHead(200, {
      'content-type': this.sse ? 'text/event-stream; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive'
    })
    this.send({ type: 'hello', host: agent.host, peerId: agent.peerId, dc: agent.config.dc, atMs: Date.now() })
    this.unsubscribe = agent.observe(e => { if (matches(e, filter)) this.send(e) })
    if (this.sse) this.keepalive = setInterval(() => this.res.write(': keepalive\n\n'), SSE_KEEPALIVE_MS).unref()
    this.res.on('close', () => { this.dispose(); onClose() })
  }

  private send (e: StreamEvent): void {
    if (this.res.writableEnded || this.res.destroyed) return
    if (this.res.writableLength > STREAM_BUFFER_LIMIT) { this.missed++; this.onLag(1); return }
    if (this.missed > 0) {
      const n = this.missed
      this.missed = 0
      this.write({ type: 'lagged', missed: n, atMs: Date.now() })
    }
    this.write(e)
  }

  private write (e: StreamEvent): void {
    const json = JSON.stringify(e)
    this.res.write(this.sse ? `event: ${e.type}\ndata: ${json}\n\n` : json + '\n')
  }

  private dispose (): void {
    if (this.keepalive !== undefined) clearInterval(this.keepalive)
    this.keepalive = undefined
    this.unsubscribe?.()
    this.unsubscribe = undefined
  }

  close (): void {
    this.dispose()
    this.res.end()
  }
}
