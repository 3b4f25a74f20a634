/**
 * This host's own votes (lib/votes.ts), kept in the state directory: a
 * vote is on disk before it goes out, so a restarted agent knows whom it
 * voted for in the rounds still open and never votes for a second plan in
 * one of them.
 */
import { join } from 'node:path'
import type { Startable } from '@libp2p/interface'
import { keptVotes, voteDecision } from '../lib/votes.ts'
import { DurableFile } from './durable-file.ts'

export const VOTES_FILE = 'votes.json'
const VERSION = 1

export class VoteBook implements Startable {
  readonly path: string
  private readonly file: DurableFile
  private votes = new Map<number, string>()
  /** The latest write: a vote given again goes out only once the first is on disk. */
  private written: Promise<void> = Promise.resolve()
  /** Votes waiting for their write (see take): released unwritten at stop. */
  private readonly waiting = new Map<ReturnType<typeof setTimeout>, () => void>()
  private stopped = false

  constructor (stateDir: string) {
    this.path = join(stateDir, VOTES_FILE)
    this.file = new DurableFile(this.path)
  }

  /** Loads the votes of earlier runs; the agent votes only once this is done. */
  async start (): Promise<void> {
    const text = await this.file.read()
    if (text === undefined) return
    const json = JSON.parse(text) as { version?: unknown, votes?: unknown }
    const entries = typeof json.votes === 'object' && json.votes !== null ? Object.entries(json.votes) : undefined
    if (json.version !== VERSION || entries === undefined || !entries.every(([round, planner]) => Number.isSafeInteger(Number(round)) && typeof planner === 'string')) {
      throw new Error(`${this.path} is not a heliotrope votes file (version ${VERSION}); move it away only after one round period with the agent stopped`)
    }
    this.votes = new Map(entries.map(([round, planner]) => [Number(round), planner as string]))
  }

  /** Waits for the votes being written, so a stop does not cut one off mid-write; votes still waiting are not written. */
  async stop (): Promise<void> {
    this.stopped = true
    for (const [timer, release] of this.waiting) { clearTimeout(timer); release() }
    this.waiting.clear()
    await this.idle()
  }

  /** Resolves once every vote taken so far is on disk or has failed to get there. */
  async idle (): Promise<void> {
    await this.written.catch(() => {})
    // An earlier vote's write may still run after the latest was released at stop.
    await this.file.idle()
  }

  /** Whom this host voted for in `round`, if it did. */
  votedFor (round: number): string | undefined {
    return this.votes.get(round)
  }

  /**
   * Takes this host's vote for `planner`'s plan in `round` if it may give
   * it (see voteDecision): false when it voted for another plan in the
   * round. The vote counts as given at once, so no second one is taken
   * while it waits or is written. It is written `writeAfterMs` from now,
   * just before it leaves (the vote delay: Cluster.voteDelayMs); `durable`
   * resolves once it is on disk, and the vote must not go out before. A
   * crash before the write forgets a vote nobody saw. Each write holds
   * every vote taken by then, so writes that land in any order never lose
   * one. After stop nothing is written: `durable` rejects.
   */
  take (round: number, planner: string, writeAfterMs = 0): { ok: false } | { ok: true, durable: Promise<void> } {
    const d = voteDecision(this.votes, round, planner)
    if (d === 'refuse') return { ok: false }
    if (d === 'vote') {
      this.votes.set(round, planner)
      this.votes = keptVotes(this.votes, Math.max(...this.votes.keys()))
      this.written = this.after(writeAfterMs).then(async () => {
        if (this.stopped) throw new Error(`vote for round ${round} not written: the vote book is stopped`)
        await this.file.write(JSON.stringify({ version: VERSION, votes: Object.fromEntries(this.votes) }) + '\n')
      })
    }
    return { ok: true, durable: this.written }
  }

  private async after (ms: number): Promise<void> {
    if (ms <= 0) return
    await new Promise<void>(resolve => {
      const timer = setTimeout(() => { this.waiting.delete(timer); resolve() }, ms)
      this.waiting.set(timer, resolve)
    })
  }
}
