/**
 * What each lab agent did per round, gathered from the two places it says
 * so: its API's /rounds (planner, whether it acted, outcomes by round; lost
 * when the agent is killed) and its JSON log, which a kill -9 cannot take
 * back ('round' summary lines with the final plan, 'migrated' and 'migration
 * failed' lines). Moves come from the log, placed in the round the API
 * recorded them in, else in the latest round whose plan held that move.
 * The result is lib/invariants.ts's AgentRound.
 */
import { open } from 'node:fs/promises'
import type { RoundsResponse } from '../../agent/api/types.ts'
import type { AgentRound } from '../../lib/invariants.ts'
import { roundAt, type RoundTiming } from '../../lib/rounds.ts'
import { parseAgentLine } from '../run/log-events.ts'
import { definedOnly } from '../../lib/defined.ts'

/** An outcome the API reported this many rounds around a log line's time is the same move. */
const MATCH_ROUNDS = 3

interface Move { vm: string, from: string, to: string, ok: boolean }
interface LoggedMove extends Move { atMs: number }
interface Entry {
  planner?: string
  /** The planner came from the log's summary line: what the agent acted on, which a later /rounds answer must not replace. */
  plannerFromLog?: boolean
  acted: boolean
  /** The accepted plan's moves as `vm:from->to`. */
  plan: Set<string>
  /** Outcomes the API reported for the round. */
  outcomes: Move[]
}

const moveKey = (m: { vm: string, from: string, to: string }): string => `${m.vm}:${m.from}->${m.to}`

export class RoundBook {
  private readonly entries = new Map<string, Map<number, Entry>>()
  private readonly logged = new Map<string, LoggedMove[]>()

  private readonly timing: RoundTiming
  constructor (timing: RoundTiming) {
    this.timing = timing
  }

  private entry (host: string, round: number): Entry {
    let h = this.entries.get(host)
    if (h === undefined) { h = new Map(); this.entries.set(host, h) }
    let e = h.get(round)
    if (e === undefined) { e = { acted: false, plan: new Set(), outcomes: [] }; h.set(round, e) }
    return e
  }

  /** An answer of the agent's /rounds. */
  addApi (res: RoundsResponse): void {
    for (const r of res.rounds) {
      const e = this.entry(res.host, r.round)
      if (r.planner !== undefined && e.plannerFromLog !== true) e.planner = r.planner
      if (r.acted === true) e.acted = true
      for (const m of r.moves) e.plan.add(moveKey(m))
      // Outcomes only grow while the agent lives; a restarted agent no longer knows the old ones.
      const outcomes = r.outcomes.map(o => ({ vm: o.vm, from: o.from ?? res.host, to: o.to, ok: o.ok }))
      if (outcomes.length >= e.outcomes.length) e.outcomes = outcomes
    }
  }

  /** One line of the agent's log. */
  addLogLine (host: string, line: string): void {
    if (!line.startsWith('{')) return
    const ev = parseAgentLine(host, line)
    if (ev?.kind === 'migrated') {
      const list = this.logged.get(host) ?? []
      list.push({ vm: ev.vm, from: ev.from, to: ev.to, ok: ev.ok, atMs: ev.atMs })
      this.logged.set(host, list)
      return
    }
    let r: Record<string, unknown>
    try { r = JSON.parse(line) as Record<string, unknown> } catch { return }
    // The round's summary line: a planner means its plan became final here, which is when the agent acts.
    if (r.msg !== 'round' || typeof r.round !== 'number' || typeof r.planner !== 'string') return
    const e = this.entry(host, r.round)
    e.planner = r.planner
    e.plannerFromLog = true
    e.acted = true
    if (Array.isArray(r.moves)) for (const m of r.moves) if (typeof m === 'string') e.plan.add(m)
  }

  /** Every agent's rounds with their moves, as checkInvariants takes them. */
  rounds (): AgentRound[] {
    const out = new Map<string, Map<number, AgentRound>>()
    const get = (host: string, round: number): AgentRound => {
      let h = out.get(host)
      if (h === undefined) { h = new Map(); out.set(host, h) }
      let r = h.get(round)
      if (r === undefined) {
        const e = this.entries.get(host)?.get(round)
        r = { host, round, acted: e?.acted === true, moves: [], ...definedOnly({ planner: e?.planner }) }
        h.set(round, r)
      }
      return r
    }
    for (const [host, rounds] of this.entries) for (const round of rounds.keys()) get(host, round)
    for (const [host, moves] of this.logged) {
      const rounds = this.entries.get(host) ?? new Map<number, Entry>()
      const used = new Set<string>()
      for (const m of moves) {
        const at = roundAt(m.atMs, this.timing)
        let round: number | undefined
        for (const [r, e] of rounds) {
          if (r < at - MATCH_ROUNDS || r > at + 1) continue
          const i = e.outcomes.findIndex((o, k) => !used.has(`${r}/${k}`) && moveKey(o) === moveKey(m) && o.ok === m.ok)
          if (i >= 0) { used.add(`${r}/${i}`); round = r; break }
        }
        if (round === undefined) {
          const planned = [...rounds].filter(([r, e]) => r <= at && e.plan.has(moveKey(m))).map(([r]) => r)
          round = planned.length > 0 ? Math.max(...planned) : at
        }
        get(host, round).moves.push({ vm: m.vm, from: m.from, to: m.to, ok: m.ok })
      }
    }
    return [...out.values()].flatMap(h => [...h.values()]).sort((a, b) => a.round - b.round || a.host.localeCompare(b.host))
  }

  /** Successful moves seen in the log, all agents. */
  movesDone (): number {
    return [...this.logged.values()].reduce((s, l) => s + l.filter(m => m.ok).length, 0)
  }

  movesFailed (): number {
    return [...this.logged.values()].reduce((s, l) => s + l.filter(m => !m.ok).length, 0)
  }
}

/** Reads what was appended to a log file since the last read, line by line. */
export class LogTail {
  private offset = 0
  /** The bytes after the last newline: a line still being written. */
  private partial = Buffer.alloc(0)

  readonly path: string
  constructor (path: string) {
    this.path = path
  }

  async lines (): Promise<string[]> {
    let chunk: Buffer
    try {
      const f = await open(this.path, 'r')
      try {
        const size = (await f.stat()).size
        if (size <= this.offset) return []
        chunk = Buffer.alloc(size - this.offset)
        const { bytesRead } = await f.read(chunk, 0, chunk.length, this.offset)
        chunk = chunk.subarray(0, bytesRead)
      } finally { await f.close() }
    } catch { return [] }
    this.offset += chunk.length
    const all = Buffer.concat([this.partial, chunk])
    const end = all.lastIndexOf(0x0a)
    if (end < 0) { this.partial = all; return [] }
    this.partial = all.subarray(end + 1)
    return all.subarray(0, end).toString('utf8').split('\n')
  }
}
