/**
 * One line per agent event, the same in `heliotrope monitor` and the
 * console's gossip pane: time, kind, topic, direction, who, and the message
 * body summarised (a full decoded body is what --json is for).
 */
import type { Envelope } from '../../lib/wire/messages.ts'
import type { StreamEvent } from '../api/types.ts'

export function clock (atMs: number): string {
  return new Date(atMs).toISOString().slice(11, 23)
}

/** A short description of a gossiped message's body. */
export function summarize (env: Envelope): string {
  switch (env.topic) {
    case 'host': {
      const b = env.body as Envelope<'host'>['body']
      const migrating = b.vms.filter(v => v.migrating).map(v => v.id)
      return `dc=${b.dc} vms=${b.vms.length}${b.vms.length > 0 ? ` [${b.vms.map(v => v.id).join(' ')}]` : ''}${migrating.length > 0 ? ` migrating=${migrating.join(',')}` : ''}${b.leaving ? ' LEAVING' : ''}`
    }
    case 'traffic': {
      const b = env.body as Envelope<'traffic'>['body']
      const out = b.vms.reduce((a, v) => a + v.restOut + v.peers.reduce((s, p) => s + p.out, 0), 0)
      return `window=${b.windowMs}ms vms=${b.vms.length} out=${rate(out)}`
    }
    case 'plan': {
      const b = env.body as Envelope<'plan'>['body']
      return `rank=${b.rank} cost ${b.initialCost.toFixed(4)}->${b.finalCost.toFixed(4)} moves=${b.moves.length}${b.moves.length > 0 ? ` [${b.moves.map(m => `${m.vm}:${m.from}->${m.to}`).join(' ')}]` : ''}`
    }
    case 'event': {
      const b = env.body as Envelope<'event'>['body']
      return `${b.kind}${b.vm !== undefined ? ` ${b.vm}` : ''}${b.from !== undefined ? ` ${b.from}->${b.to ?? '?'}` : ''}${b.totalMs !== undefined ? ` ${b.totalMs}ms` : ''}${b.detail !== undefined ? ` (${b.detail})` : ''}`
    }
  }
  return ''
}

export function describeEvent (e: StreamEvent): string {
  const t = clock(e.atMs)
  switch (e.type) {
    case 'gossip': return `${t} in   ${e.topic.padEnd(7)} <- ${e.env.host} r${e.env.round} ${summarize(e.env)}`
    case 'published': return `${t} out  ${e.topic.padEnd(7)} -> ${e.env.host} r${e.env.round} ${summarize(e.env)} (${e.bytes} B)`
    case 'drop': return `${t} DROP ${e.topic.padEnd(7)} ${e.reason} from ${e.peer}`
    case 'plan-accepted': return `${t} round ${e.round}'s plan: by ${e.planner} (rank ${e.rank})`
    case 'migration': return `${t} migration ${e.phase}: ${e.vm} ${e.from} -> ${e.to}${e.detail !== undefined ? ` (${e.detail})` : ''}`
    case 'hello': return `${t} connected to ${e.host} (dc ${e.dc}, ${e.peerId})`
    case 'lagged': return `${t} ... ${e.missed} events skipped: this client fell behind`
  }
}

/** bit/s, readable. */
export function rate (bps: number): string {
  if (bps >= 1e9) return `${(bps / 1e9).toFixed(2)}Gb/s`
  if (bps >= 1e6) return `${(bps / 1e6).toFixed(1)}Mb/s`
  if (bps >= 1e3) return `${(bps / 1e3).toFixed(1)}kb/s`
  return `${Math.round(bps)}b/s`
}

/** A duration, readable: 850ms, 12.3s, 4m05s, 2h13m. */
export function ago (ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)}m${String(Math.floor(ms / 1000) % 60).padStart(2, '0')}s`
  return `${Math.floor(ms / 3_600_000)}h${String(Math.floor(ms / 60_000) % 60).padStart(2, '0')}m`
}
