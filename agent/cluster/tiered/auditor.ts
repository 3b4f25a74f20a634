/**
 * How a host catches an aggregator that hides its reports (docs/design.md
 * §9.8): an aggregator cannot invent or alter a host's digest (signatures),
 * but it can take the report, answer "accepted", and never pass it on. So
 * once a round the host asks an aggregator of another DC (the other DCs in
 * turn) which of its digests it holds. When the digest our aggregator took
 * in an earlier round of this epoch has not arrived there in two audits in
 * a row, the host accuses its aggregator: a warning and a count, and it
 * reports to the next rank for the rest of the epoch, which passes its
 * digests on.
 *
 * An auditor that lies (says it holds nothing) can make a host leave an
 * honest aggregator for a standby: a cost, never a loss (the standby
 * aggregates). A path that fails (the batch to that DC timed out) reads as
 * hiding too; so the misses in a row must come from two DCs (when there are
 * two others): an aggregator that hides, hides from all of them, while one
 * overloaded or cut-off DC does not make every host of ours change
 * aggregators (which would only add load where it is short).
 */
import { epochOf } from '../../../lib/roles.ts'
import { spreadOffsetMs } from '../../../lib/rounds.ts'
import type { RelayAnswer, RelayMessage } from '../../../lib/wire/relay.ts'
import type { Logger } from '../../log.ts'
import type { AggregatorRoles } from './roles.ts'

/** Misses in a row (one audit per round) before a host accuses its aggregator. */
export const AUDIT_MISSES = 2
/** A host audits once in this many rounds while its audits find nothing missing. */
export const AUDIT_EVERY = 3

export interface AuditorComponents {
  host: string
  dc: string
  roles: AggregatorRoles
  log: Logger
  now: () => number
  /** How long a batch takes to reach the other DCs at most (the batch delay and some): younger digests are not audited. */
  graceMs: number
  /** Sends one relay message to `host`; resolves with its answer. */
  send: (host: string, msg: RelayMessage) => Promise<RelayAnswer>
  /** Our aggregator hid our digests: leave it for the rest of `epoch`. */
  accuse: (aggregator: string, epoch: number) => void
}

/** A digest of ours that an aggregator took. */
interface Taken { seq: number, round: number, aggregator: string, atMs: number }

export class Auditor {
  private readonly c: AuditorComponents
  private last: Taken | undefined
  private misses = 0
  /** The DCs whose aggregators found our digest missing, in this run of misses. */
  private missedIn = new Set<string>()
  /** Audits that found our digest missing, and accusations made. */
  missed = 0
  accusations = 0

  constructor (components: AuditorComponents) {
    this.c = components
  }

  /** Our digest `seq` of `round` was taken by `aggregator`. */
  taken (seq: number, round: number, aggregator: string): void {
    if (this.last !== undefined && seq <= this.last.seq) return
    if (this.last?.aggregator !== aggregator) this.clearMisses()
    this.last = { seq, round, aggregator, atMs: this.c.now() }
  }

  /**
   * Audits the newest digest our aggregator took, when it was taken in an
   * earlier round of this epoch, long enough ago, by another host than us
   * (an aggregator does not hide from itself).
   */
  async audit (round: number): Promise<void> {
    const last = this.last
    const epoch = epochOf(round)
    if (last === undefined || last.round >= round || epochOf(last.round) !== epoch) return
    if (last.aggregator === this.c.host || this.c.now() - last.atMs < this.c.graceMs) return
    if (this.misses === 0 && round % AUDIT_EVERY !== spreadOffsetMs(`${this.c.host}/audit`, AUDIT_EVERY)) return
    const others = [...this.c.roles.byDc(epoch)].filter(([dc]) => dc !== this.c.dc).sort(([a], [b]) => a.localeCompare(b))
    if (others.length === 0) return
    const [auditorDc, ranking] = others[round % others.length]!
    const auditor = ranking[0]
    if (auditor === undefined) return
    let answer: RelayAnswer
    try {
      answer = await this.c.send(auditor, { kind: 'audit', epoch, items: [] })
    } catch (err) {
      // No verdict: the auditor is down or slow, not our aggregator's fault.
      this.c.log.debug('audit not answered', { auditor, error: (err as Error).message })
      return
    }
    // We moved to another aggregator while the audit was out: the verdict is about the old one.
    if (this.last?.aggregator !== last.aggregator) return
    if ((answer.held ?? -1) >= last.seq) { this.clearMisses(); return }
    this.missed++
    this.misses++
    this.missedIn.add(auditorDc)
    this.c.log.info('audit: our digest did not reach another DC', { auditor, dc: auditorDc, aggregator: last.aggregator, seq: last.seq, held: answer.held ?? -1, misses: this.misses })
    if (this.misses < AUDIT_MISSES || this.missedIn.size < Math.min(2, others.length)) return
    this.clearMisses()
    this.accusations++
    this.c.log.warn('our aggregator took our digests and another DC never got them: reporting to the next rank for the rest of the epoch', { aggregator: last.aggregator, auditor, epoch, seq: last.seq, held: answer.held ?? -1 })
    this.c.accuse(last.aggregator, epoch)
  }

  private clearMisses (): void {
    this.misses = 0
    this.missedIn.clear()
  }
}
