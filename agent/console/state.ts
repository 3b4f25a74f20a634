/**
 * What the console knows: the latest answers of /status, /view and /rounds
 * (polled) and the recent events of /events (streamed), with per-topic
 * message rates. Bounded: old events fall off the end.
 */
import { TOPICS, type Topic } from '../../lib/wire/messages.ts'
import type { RoundsResponse, StatusResponse, StreamEvent, ViewResponse } from '../api/types.ts'
import { definedOnly } from '../../lib/defined.ts'

/** Events kept for the gossip pane. */
export const EVENT_HISTORY = 2000
/** Message rates are averaged over this window. */
export const RATE_WINDOW_MS = 10_000
/** Drops and migrations kept for their panes. */
export const RECENT_LIMIT = 200

export interface MigrationSeen {
  atMs: number
  vm: string
  from: string
  to: string
  phase: string
  /** Which host reported it: this agent (local) or a gossiped event. */
  by: string
  detail?: string
}

export class ConsoleState {
  status: StatusResponse | undefined
  view: ViewResponse | undefined
  rounds: RoundsResponse | undefined
  /** Why the agent is not answering, when it is not. */
  error: string | undefined
  streamConnected = false
  readonly events: StreamEvent[] = []
  readonly drops: Array<Extract<StreamEvent, { type: 'drop' }>> = []
  readonly migrations: MigrationSeen[] = []
  private readonly stamps = Object.fromEntries(TOPICS.map(t => [t, { in: [] as number[], out: [] as number[] }])) as Record<Topic, { in: number[], out: number[] }>
  readonly totals = Object.fromEntries(TOPICS.map(t => [t, { in: 0, out: 0 }])) as Record<Topic, { in: number, out: number }>
  /** When the first event arrived: rates divide by the time watched until the window fills. */
  private firstAtMs: number | undefined

  ingest (e: StreamEvent): void {
    this.firstAtMs ??= e.atMs
    push(this.events, e, EVENT_HISTORY)
    if (e.type === 'gossip' || e.type === 'published') {
      const dir = e.type === 'gossip' ? 'in' : 'out'
      this.stamps[e.topic][dir].push(e.atMs)
      this.totals[e.topic][dir]++
      if (e.type === 'gossip' && e.env.topic === 'event') {
        const b = e.env.body as { kind: string, vm?: string, from?: string, to?: string, detail?: string }
        if (b.kind.startsWith('migration-') && b.vm !== undefined) {
          push(this.migrations, { atMs: e.atMs, vm: b.vm, from: b.from ?? '?', to: b.to ?? '?', phase: b.kind.slice('migration-'.length), by: e.env.host, ...definedOnly({ detail: b.detail }) }, RECENT_LIMIT)
        }
      }
    } else if (e.type === 'drop') {
      push(this.drops, e, RECENT_LIMIT)
    } else if (e.type === 'migration') {
      push(this.migrations, { atMs: e.atMs, vm: e.vm, from: e.from, to: e.to, phase: e.phase, by: 'local', ...definedOnly({ detail: e.detail }) }, RECENT_LIMIT)
    }
  }

  /** Messages per second over the last RATE_WINDOW_MS, per topic and direction. */
  rates (nowMs: number): Record<Topic, { in: number, out: number }> {
    const out = {} as Record<Topic, { in: number, out: number }>
    const seconds = Math.max(1, Math.min(RATE_WINDOW_MS, nowMs - (this.firstAtMs ?? nowMs))) / 1000
    for (const t of TOPICS) {
      const s = this.stamps[t]
      for (const dir of ['in', 'out'] as const) {
        const list = s[dir]
        while (list.length > 0 && list[0]! < nowMs - RATE_WINDOW_MS) list.shift()
      }
      out[t] = { in: s.in.length / seconds, out: s.out.length / seconds }
    }
    return out
  }
}

function push<T> (list: T[], item: T, limit: number): void {
  list.push(item)
  if (list.length > limit) list.splice(0, list.length - limit)
}
