/**
 * Migrations on the move across the cluster: every move of a plan this
 * agent saw become final (or approved) until its source reports it done or
 * failed. It counts queued moves too, since they start later, so the caps
 * on migrations at once hold for what will run, not only what runs now. An
 * entry lapses after `ttlMs` in case its source died without a word.
 */
import type { OnTheMove } from '../../lib/planners/limits.ts'

interface Entry { from: string, to: string, round: number, sinceMs: number }

export class MigrationLedger {
  private readonly moves = new Map<string, Entry>()
  private readonly ttlMs: number

  constructor (ttlMs: number) {
    this.ttlMs = ttlMs
  }

  planned (round: number, moves: ReadonlyArray<{ vm: string, from: string, to: string }>, nowMs: number): void {
    for (const m of moves) this.moves.set(m.vm, { from: m.from, to: m.to, round, sinceMs: nowMs })
  }

  started (vm: string, from: string, to: string, round: number, nowMs: number): void {
    if (!this.moves.has(vm)) this.moves.set(vm, { from, to, round, sinceMs: nowMs })
  }

  finished (vm: string): void {
    this.moves.delete(vm)
  }

  onTheMove (nowMs: number): OnTheMove[] {
    for (const [vm, e] of this.moves) if (nowMs - e.sinceMs > this.ttlMs) this.moves.delete(vm)
    return [...this.moves].map(([vm, e]) => ({ vm, from: e.from }))
  }
}
