/**
 * Source side of a plan: carries out this host's moves, in plan order, one
 * at a time per VM and at most `concurrency` at once. For each move: find
 * the VM (the hypervisor is the truth), reserve on the target (retrying
 * while the target waits for room that earlier moves free), migrate, and
 * report the outcome to the target and the cluster. A stop aborts what is
 * in flight; the driver guarantees the VM ends on exactly one host. For a
 * driver whose target waits to be told (QEMU), the report of success is the
 * hand-over itself, made while the migration's last step waits on it.
 */
import type { PlannedMove } from '../lib/wire/messages.ts'
import type { HypervisorDriver, MigrationResult, VmInfo } from './drivers/types.ts'
import type { Logger } from './log.ts'
import type { MigrateRequest, MigrateResponse } from './migrate-protocol.ts'
import { definedOnly } from '../lib/defined.ts'
import { handOver } from './hand-over.ts'

export const DEFAULT_CONCURRENCY = 2
export const RESERVE_RETRY_MS = 300

export interface ExecutorContext {
  host: string
  driver: HypervisorDriver
  log: Logger
  now: () => number
  /** Sends a migrate-protocol request to the agent of `host`. */
  ask: (host: string, req: MigrateRequest) => Promise<MigrateResponse>
  /** Publishes an event and refreshes this host's state in the cluster. */
  started: (move: PlannedMove) => Promise<void>
  finished: (move: PlannedMove, result: MigrationResult) => Promise<void>
  deadlineMs: number
  concurrency?: number
}

export interface MoveOutcome {
  move: PlannedMove
  result: MigrationResult
}

export class Executor {
  private readonly ctx: ExecutorContext
  private stopping = false

  constructor (ctx: ExecutorContext) {
    this.ctx = ctx
  }

  stop (): void {
    this.stopping = true
  }

  /** Runs this host's moves of `moves`; resolves when all are done or given up by `untilMs`. */
  async run (round: number, moves: PlannedMove[], untilMs: number): Promise<MoveOutcome[]> {
    const mine = moves.filter(m => m.from === this.ctx.host)
    const outcomes: MoveOutcome[] = []
    const queue = [...mine]
    const worker = async (): Promise<void> => {
      for (let move = queue.shift(); move !== undefined; move = queue.shift()) {
        outcomes.push({ move, result: await this.one(round, move, untilMs) })
      }
    }
    await Promise.all(Array.from({ length: Math.min(this.ctx.concurrency ?? DEFAULT_CONCURRENCY, mine.length) }, worker))
    return outcomes
  }

  private async one (round: number, move: PlannedMove, untilMs: number): Promise<MigrationResult> {
    const { driver, log } = this.ctx
    const started = this.ctx.now()
    const fail = (error: string): MigrationResult => ({ ok: false, totalMs: this.ctx.now() - started, error })
    let vm: VmInfo | undefined
    try {
      vm = (await driver.list()).find(v => v.id === move.vm)
    } catch (err) {
      return this.report(move, fail(`hypervisor list failed: ${(err as Error).message}`))
    }
    if (vm === undefined) return this.report(move, fail(`${move.vm} does not run here`))
    // Reserve: the target may refuse for lack of room until other moves of
    // the plan have left it, or because its copy of the plan is still on
    // the way; retry until the round is over.
    let admission: MigrateResponse
    for (;;) {
      if (this.stopping) return this.report(move, fail('agent stopping'))
      try {
        admission = await this.ctx.ask(move.to, { op: 'reserve', round, vm })
      } catch (err) {
        admission = { ok: false, reason: 'busy', detail: (err as Error).message }
      }
      // 'not-in-plan' too: the target may not have accepted the plan yet.
      if (admission.ok || (admission.reason !== 'no-room' && admission.reason !== 'not-in-plan') || this.ctx.now() + RESERVE_RETRY_MS > untilMs) break
      await delay(RESERVE_RETRY_MS)
    }
    if (!admission.ok) return this.report(move, fail(`${move.to} refused: ${admission.reason} (${admission.detail})`))
    if (admission.target === undefined) return this.report(move, fail(`${move.to} admitted without a target`))
    await this.ctx.started(move)
    log.info('migrating', { vm: move.vm, from: move.from, to: move.to, target: admission.target.address })
    let result: MigrationResult
    let handedOver = false
    const handOverContext = {
      ask: this.ctx.ask,
      now: this.ctx.now,
      stopping: () => this.stopping,
      onRetry: (why: string) => { log.warn('hand-over not settled yet: asking the target again', { vm: move.vm, to: move.to, why }) }
    }
    try {
      result = await driver.migrate(move.vm, admission.target, {
        deadlineMs: this.ctx.deadlineMs,
        move: { to: move.to, round },
        handOver: async () => { handedOver = true; return await handOver(handOverContext, move.to, round, move.vm) }
      })
    } catch (err) {
      result = fail(`migration failed: ${(err as Error).message}`)
    }
    // The hand-over was the commit, and whatever it settled stands: a cancel now could end the only copy.
    if (handedOver) return this.report(move, result)
    try {
      await this.ctx.ask(move.to, result.ok ? { op: 'commit', round, vmId: move.vm } : { op: 'cancel', round, vmId: move.vm })
    } catch (err) {
      // The reservation expires on its own; the target reconciles from its hypervisor.
      log.warn('could not report the outcome to the target', { vm: move.vm, to: move.to, error: (err as Error).message })
    }
    return this.report(move, result)
  }

  private async report (move: PlannedMove, result: MigrationResult): Promise<MigrationResult> {
    // Where the VM runs now, by host name: after a failed or aborted move an operator's first question.
    const runsOn = result.ok || result.runsOn === 'target' ? move.to : result.runsOn === 'source' ? move.from : result.runsOn
    this.ctx.log[result.ok ? 'info' : 'warn'](result.ok ? 'migrated' : 'migration failed', { vm: move.vm, from: move.from, to: move.to, ...result, ...definedOnly({ runsOn }) })
    await this.ctx.finished(move, result)
    return result
  }
}

function delay (ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms))
}
