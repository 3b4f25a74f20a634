/**
 * Reads the agents' JSON log lines (agent/log.ts) into what the lab shows
 * and reports: plans made, plans accepted, migrations. Lines that are not
 * JSON or not one of these are ignored (an agent's stack trace, a warning).
 */

export type AgentLogEvent =
  | { kind: 'started', host: string, atMs: number }
  | { kind: 'planned', host: string, atMs: number, round: number, rank: number, algorithm: string, costBefore: number, costAfter: number, moves: string[] }
  | { kind: 'accepted', host: string, atMs: number, round: number, planner: string, rank: number }
  | { kind: 'migrated', host: string, atMs: number, vm: string, from: string, to: string, ok: boolean, totalMs: number, downtimeMs?: number, error?: string }
  | { kind: 'error', host: string, atMs: number, message: string }

type Rec = Record<string, unknown>

const num = (v: unknown): number => typeof v === 'number' ? v : NaN
const str = (v: unknown): string => typeof v === 'string' ? v : ''

export function parseAgentLine (host: string, line: string): AgentLogEvent | undefined {
  if (!line.startsWith('{')) return undefined
  let r: Rec
  try { r = JSON.parse(line) as Rec } catch { return undefined }
  const atMs = Date.parse(str(r.ts)) || Date.now()
  switch (r.msg) {
    case 'agent started': return { kind: 'started', host, atMs }
    case 'planned': return {
      kind: 'planned', host, atMs, round: num(r.round), rank: num(r.rank), algorithm: str(r.planner),
      costBefore: num(r.costBefore), costAfter: num(r.costAfter), moves: Array.isArray(r.moves) ? r.moves.map(String) : []
    }
    case 'plan accepted': return { kind: 'accepted', host, atMs, round: num(r.round), planner: str(r.planner), rank: num(r.rank) }
    case 'migrated':
    case 'migration failed': {
      const e: AgentLogEvent = { kind: 'migrated', host, atMs, vm: str(r.vm), from: str(r.from), to: str(r.to), ok: r.msg === 'migrated', totalMs: num(r.totalMs) }
      if (typeof r.downtimeMs === 'number') e.downtimeMs = r.downtimeMs
      if (typeof r.error === 'string') e.error = r.error
      return e
    }
  }
  if (r.level === 'error') return { kind: 'error', host, atMs, message: `${str(r.msg)} ${str(r.error)}`.trim() }
  return undefined
}
