/**
 * Mode approve at one agent: the plan waiting here (approvals.ts keeps the
 * book), the operator's `heliotrope approve` (checked here, then gossiped
 * to every agent), and the gossiped approval, which releases the plan to
 * this host's executor if it still fits the cluster. controls.ts hands the
 * desk each final plan and each approval event.
 */
import type { PlanCheck } from '../../lib/plan-check.ts'
import { roundAt, type RoundTiming } from '../../lib/rounds.ts'
import type { EventMessage, PlannedMove } from '../../lib/wire/messages.ts'
import type { ControlReply } from '../control-socket/protocol.ts'
import type { Logger } from '../log.ts'
import { ApprovalBook, describeState, type WaitingPlan } from './approvals.ts'
import type { Mode } from './mode.ts'

export interface DeskContext {
  host: string
  log: Logger
  now: () => number
  timing: RoundTiming
  /** The mode in effect now (cluster settings may change it live). */
  mode: () => Mode
  windowRounds: number
  /** Whether a waiting plan still fits the cluster now (and, with `gain`, still lowers its cost). */
  check: (w: WaitingPlan, gain: boolean) => PlanCheck
  publishEvent: (body: EventMessage) => Promise<void>
  /** An approved plan's moves, to carry out by `untilMs`. */
  release: (round: number, moves: PlannedMove[], untilMs: number) => void
}

export class ApprovalDesk {
  readonly book: ApprovalBook
  private readonly ctx: DeskContext

  constructor (ctx: DeskContext) {
    this.ctx = ctx
    this.book = new ApprovalBook(ctx.windowRounds)
  }

  /** A final plan waits for approval; true when its approval came first (carry it out now). */
  hold (p: WaitingPlan): boolean {
    return this.book.hold(p) !== undefined
  }

  /** A gossiped approval of `round` (from any host's `heliotrope approve`). */
  onApprove (round: number, by: string): void {
    const mode = this.ctx.mode()
    if (mode !== 'approve') { this.ctx.log.info('approval ignored: not in mode approve', { round, by, mode }); return }
    const now = this.ctx.now()
    const waiting = this.book.waitingPlan(round)
    if (waiting !== undefined) {
      // The approving host checked the gain too; here only facts every view
      // shares the same are checked (VMs where the plan assumed, pins, room),
      // so hosts whose traffic figures differ a little do not split on it.
      const check = this.ctx.check(waiting, false)
      if (!check.ok) {
        this.book.refuse(round, check.reason)
        this.ctx.log.warn('approval refused: the plan no longer fits the cluster', { round, by, reason: check.reason })
        return
      }
    }
    const p = this.book.approve(round, roundAt(now, this.ctx.timing))
    if (p === undefined) return
    this.ctx.log.info('plan approved', { round, by, moves: p.plan.moves.map(m => `${m.vm}:${m.from}->${m.to}`) })
    this.ctx.release(round, p.plan.moves, now + this.ctx.timing.periodMs)
  }

  /** `heliotrope approve <round>`: checked against the cluster as it is now, then gossiped. */
  async approve (round: number): Promise<ControlReply> {
    const mode = this.ctx.mode()
    if (mode !== 'approve') return { ok: false, error: `this agent is in mode ${mode}; approvals apply in mode approve` }
    const w = this.book.waitingPlan(round)
    if (w === undefined) {
      const state = this.book.stateOf(round)
      const waiting = this.book.list().map(x => x.round)
      return { ok: false, error: `no plan of round ${round} waits for approval here${state === undefined ? '' : ` (${describeState(state)})`}; waiting: ${waiting.length === 0 ? 'none' : waiting.join(', ')}` }
    }
    const check = this.ctx.check(w, true)
    if (!check.ok) {
      this.book.refuse(round, check.reason)
      this.ctx.log.warn('approval refused: the plan no longer fits the cluster', { round, by: this.ctx.host, reason: check.reason })
      return { ok: false, error: `round ${round} is stale and will not run: ${check.reason}. The next round plans again from the cluster as it is.` }
    }
    const moves = w.plan.moves
    await this.ctx.publishEvent({ kind: 'approve', round })
    return { ok: true, message: `approved round ${round}: ${moves.length} move(s), cost now ${cost(check.costNow)} -> ${cost(check.costAfter)}, each carried out by its source host: ${moves.map(m => `${m.vm} ${m.from}->${m.to}`).join(', ')}`, data: { round, moves, costNow: check.costNow, costAfter: check.costAfter } }
  }

  /** `heliotrope approve` without a round: the plan waiting, as planned and as it would run now. */
  listWaiting (): ControlReply {
    const waiting = this.book.list()
    const mode = this.ctx.mode()
    if (waiting.length === 0) return { ok: true, message: mode === 'approve' ? 'no plan waits for approval' : `no plan waits for approval (mode ${mode})`, data: [] }
    const rows = waiting.map(w => ({ ...w, now: this.ctx.check(w, true) }))
    const lines = rows.map(({ round, planner, plan, now, sameAs }) =>
      `round ${round} (planner ${planner}${sameAs === undefined ? '' : `; the same moves planned again ${again(sameAs)}`}): planned at cost ${cost(plan.initialCost)} -> ${cost(plan.finalCost)}; ` +
      (now.ok ? `now ${cost(now.costNow)} -> ${cost(now.costAfter)}` : `stale (${now.reason}), will be refused`) +
      `; ${plan.moves.map(m => `${m.vm} ${m.from}->${m.to}`).join(', ')}`)
    return { ok: true, message: lines.join('\n') + `\napprove it with: heliotrope approve ${rows[rows.length - 1]!.round} (only the newest plan waits; an approval is checked against the cluster as it is then)`, data: rows }
  }
}

/** The rounds that planned a waiting plan again: a few by number, many counted (a plan can wait for hours). */
function again (rounds: readonly number[]): string {
  if (rounds.length <= 3) return `in round ${rounds.join(', ')}`
  return `in ${rounds.length} later rounds, ${rounds[0]!} to ${rounds[rounds.length - 1]!}`
}

/** A cost as the operator reads it: four significant digits. */
function cost (x: number): string {
  return x.toPrecision(4)
}
