/**
 * The operator's controls over one agent: its mode, plans waiting for
 * approval, pinned VMs, draining this host, the limits on migrations in
 * flight and the per-VM cooldown (mode and limits: the host's file with the
 * cluster settings over it, cluster-settings.ts), plus the channels they arrive by (the
 * local control socket, gossiped operator events) and the word to systemd.
 * The agent calls in at a few points: when it plans, when a plan becomes
 * final, on each event, and at each round's start. Plans waiting for
 * approval are the desk's (approval-desk.ts), pins and the drain
 * pins-and-drain.ts's; this file routes to them and holds the rest.
 */
import type { Snapshot } from '../../lib/model.ts'
import { plannerConfig, type RoundPlan, roundPlan, ruledSnapshot } from './round-plan.ts'
import { roundAt, type RoundTiming } from '../../lib/rounds.ts'
import type { ReplicatedView } from '../../lib/view.ts'
import type { Envelope, EventMessage, PlanMessage, PlannedMove } from '../../lib/wire/messages.ts'
import type { AgentConfig } from '../config.ts'
import { ControlServer } from '../control-socket/server.ts'
import type { ControlHandler, ControlReply, ControlRequest } from '../control-socket/protocol.ts'
import type { Revocation, Signed } from '../../lib/membership.ts'
import type { Logger } from '../log.ts'
import { JOIN_WAIT_MS, SystemdNotifier, waitUntilJoined } from '../systemd/notify.ts'
import { checkPlanNow, type PlanCheck } from '../../lib/plan-check.ts'
import { ApprovalDesk } from './approval-desk.ts'
import type { PlanState, WaitingPlan } from './approvals.ts'
import { CONTROL_SOCKET_FILE, DEFAULT_SAFETY, type SafetyConfig } from './config.ts'
import { Cooldown } from './cooldown.ts'
import { MigrationLedger } from './ledger.ts'
import { DEFAULT_MODE, migrates, plans, type Mode } from './mode.ts'
import { ControlStore } from './store.ts'
import { PinsAndDrain } from './pins-and-drain.ts'
import type { VerifySettings } from '../../lib/settings.ts'
import { ClusterSettingsBook } from './cluster-settings.ts'
import { checkChange, type Effective, type SettingRow } from './settings-rules.ts'

/** Rounds whose summary line was written, kept to avoid writing one twice. */
const SUMMARY_MEMORY = 16

export interface ControlsContext {
  host: string
  config: AgentConfig
  view: ReplicatedView
  timing: RoundTiming
  log: Logger
  now: () => number
  publishEvent: (body: EventMessage) => Promise<void>
  publishState: () => Promise<unknown>
  /** Carries out this host's moves of an approved plan, beside the round loop. */
  execute: (round: number, moves: PlannedMove[], untilMs: number) => void
  /** The cluster as this agent sees it now: what an approval is checked against. */
  snapshot: () => Snapshot
  notifier?: SystemdNotifier
  /** Signed membership's revocation (agent/membership/); without it (no adminKey) `revoke` is refused. */
  revoke?: (revocation: Signed<Revocation>) => Promise<ControlReply>
  /** Signed membership's admin key check: cluster settings then count only when it signed them. */
  verifyAdmin?: VerifySettings
  /** Signed membership's admin keys: shown, or rotated with a bundle (CBOR) the CLI signed. */
  adminKey?: (rotate: Uint8Array | undefined) => Promise<ControlReply>
}

export interface FinalPlan {
  round: number
  planner: string
  rank: number
  plan: PlanMessage
}

export class Controls implements ControlHandler {
  /**
   * The mode and the limits each plan is made under: the config's (a
   * reload sets others: setLimits) with the cluster settings over them.
   */
  readonly settings: ClusterSettingsBook
  private readonly ctx: ControlsContext
  private readonly log: Logger
  /** Unsigned settings records already warned of (host/version/setter/time), so a resent one is not said again (cleared at 1,000). */
  private readonly refusedSettings = new Set<string>()
  private readonly store: ControlStore
  private readonly ledger: MigrationLedger
  private readonly cooldown: Cooldown
  private readonly desk: ApprovalDesk
  private readonly pins: PinsAndDrain
  private readonly notifier: SystemdNotifier
  private readonly summarized = new Set<number>()
  private server: ControlServer | undefined
  private readonly abort = new AbortController()

  constructor (ctx: ControlsContext) {
    this.ctx = ctx
    this.log = ctx.log.child('controls')
    this.settings = new ClusterSettingsBook({
      host: ctx.host,
      view: ctx.view,
      log: this.log,
      now: ctx.now,
      publishEvent: ctx.publishEvent,
      publishState: ctx.publishState,
      changed: (e) => { this.limitsChanged(e) },
      ...(ctx.verifyAdmin === undefined ? {} : { verify: ctx.verifyAdmin })
    }, ctx.config.stateDir, { mode: ctx.config.mode ?? DEFAULT_MODE, planner: ctx.config.planner, safety: ctx.config.safety ?? DEFAULT_SAFETY })
    this.store = new ControlStore(ctx.config.stateDir)
    this.ledger = new MigrationLedger(ctx.config.migrationDeadlineMs + 2 * ctx.timing.periodMs)
    this.cooldown = new Cooldown(this.safety.cooldownRounds)
    this.desk = new ApprovalDesk({
      host: ctx.host,
      log: this.log,
      now: ctx.now,
      timing: ctx.timing,
      mode: () => this.mode,
      windowRounds: this.safety.approvalWindowRounds,
      check: (w, gain) => this.check(w, gain),
      publishEvent: ctx.publishEvent,
      release: (round, moves, untilMs) => {
        this.ledger.planned(round, moves, this.ctx.now())
        this.ctx.execute(round, moves, untilMs)
      }
    })
    this.pins = new PinsAndDrain({ host: ctx.host, view: ctx.view, log: this.log, now: ctx.now, store: this.store, mode: () => this.mode, publishEvent: ctx.publishEvent, publishState: ctx.publishState })
    this.notifier = ctx.notifier ?? new SystemdNotifier({ log: this.log })
  }

  /** Loads the persisted pins and drain, opens the control socket, tells systemd once joined. */
  async start (): Promise<void> {
    await this.store.load()
    await this.settings.load()
    this.limitsChanged(this.settings.effective)
    if (this.store.draining) this.log.warn('this host is drained (heliotrope undrain ends it)', { host: this.ctx.host })
    this.server = new ControlServer({ handler: this, log: this.log }, { path: this.ctx.config.controlSocket ?? `${this.ctx.config.stateDir}/${CONTROL_SOCKET_FILE}` })
    await this.server.start()
    void this.announceReady()
  }

  async stop (): Promise<void> {
    this.abort.abort()
    await this.notifier.stopping()
    await this.server?.stop()
    // A pin applied from an event just before the stop may still be being
    // written: a stopped agent writes nothing more (its state directory may
    // be removed or taken by its restart; seen in CI as ENOTEMPTY).
    await this.store.idle()
    await this.settings.idle()
  }

  private async announceReady (): Promise<void> {
    if (!this.notifier.enabled) return
    const { config, view, host, now } = this.ctx
    const joined = config.bootstrap.length === 0 ||
      await waitUntilJoined(() => view.live(now()).filter(m => m.host !== host).length, JOIN_WAIT_MS, this.abort.signal)
    if (this.abort.signal.aborted) return
    await this.notifier.ready(joined ? `joined cluster ${config.cluster} (mode ${this.mode})` : `no peer reached yet; running alone (mode ${this.mode})`)
  }

  /** observe, dry-run, approve or auto: the file's, unless the cluster settings set one (read at each decision, so a change applies live). */
  get mode (): Mode {
    return this.settings.effective.mode
  }

  get safety (): SafetyConfig {
    return this.settings.effective.safety
  }

  get planner (): AgentConfig['planner'] {
    return this.settings.effective.planner
  }

  /**
   * A config reload's new limits (agent/config-reload.ts): the next plan,
   * approval check and cooldown use them, except where the cluster settings
   * set a value (those win). Plans already made keep the limits they were
   * made under; a shorter approval window lapses waiting plans at the next
   * round's start. The file's mode stays the one read at start (a reload
   * does not take it: the mode is set cluster-wide).
   */
  setLimits (planner: AgentConfig['planner'], safety: SafetyConfig): void {
    this.settings.setFile({ mode: this.ctx.config.mode ?? DEFAULT_MODE, planner, safety })
  }

  /** The limits in effect changed (a reload, cluster settings): the parts that keep a copy take it. */
  private limitsChanged (e: Effective): void {
    this.cooldown.setRounds(e.safety.cooldownRounds)
    this.desk.book.setWindow(e.safety.approvalWindowRounds)
  }

  get draining (): boolean {
    return this.store.draining
  }

  /** Whether this agent plans rounds (all modes but observe). */
  get plans (): boolean {
    return plans(this.mode)
  }

  /** A drained host, or one whose mode never migrates, admits no VM. */
  refusesIncoming (): boolean {
    return this.store.draining || !migrates(this.mode)
  }

  isPinned (vm: string): boolean {
    return this.store.isPinned(vm)
  }

  /** Mode approve: what became of the plan of `round` here, if one was held. */
  approvalState (round: number): PlanState | undefined {
    return this.desk.book.stateOf(round)
  }

  /** Is this move part of a plan approved lately? (A target's reservation check.) */
  approvedMove (round: number, vm: string, from: string, to: string): boolean {
    return this.desk.book.approvedMove(round, vm, from, to)
  }

  /** This round's plan under the limits (the chosen planner, or evacuation). */
  plan (snapshot: Snapshot, round: number): RoundPlan {
    return roundPlan(snapshot, this.planner, this.safety, {
      onTheMove: this.ledger.onTheMove(this.ctx.now()),
      cooling: this.cooldown.cooling(round),
      coolingLeft: this.cooldown.left(round)
    }, this.ctx.timing.periodMs)
  }

  /**
   * A round's plan is final: decide what this agent does with it, by mode,
   * and write the round's one summary line. True: carry it out now.
   */
  planFinal (p: FinalPlan): boolean {
    const moves = p.plan.moves
    let action: string
    let execute = false
    if (moves.length === 0) action = 'nothing to move'
    else if (this.mode === 'auto') { action = 'migrating'; execute = true } else if (this.mode === 'approve') {
      execute = this.desk.hold({ round: p.round, planner: p.planner, plan: p.plan })
      action = execute ? 'approved, migrating' : `awaiting approval: heliotrope approve ${p.round}`
    } else action = this.mode === 'dry-run' ? 'dry-run, not migrating' : 'observing, not migrating'
    if (execute) this.ledger.planned(p.round, moves, this.ctx.now())
    this.summarize(p.round, { planner: p.planner, rank: p.rank, costBefore: p.plan.initialCost, costAfter: p.plan.finalCost, moves: moves.map(m => `${m.vm}:${m.from}->${m.to}`), action })
    return execute
  }

  /** A new round began: the last one gets its line if no plan became final in it; waiting plans age. */
  roundStarted (round: number): void {
    this.settings.roundStarted(round)
    if (!this.summarized.has(round - 1)) this.summarize(round - 1, { moves: [], action: 'no plan' })
    for (const r of this.desk.book.expire(round)) this.log.warn('plan lapsed unapproved', { round: r, windowRounds: this.safety.approvalWindowRounds })
  }

  private summarize (round: number, fields: Record<string, unknown>): void {
    if (this.summarized.has(round)) return
    this.summarized.add(round)
    for (const r of this.summarized) if (r < round - SUMMARY_MEMORY) this.summarized.delete(r)
    this.log.info('round', { round, mode: this.mode, ...(this.store.draining ? { draining: true } : {}), ...fields })
    if (this.notifier.enabled) void this.notifier.status(`round ${round}: ${String(fields.action)}`)
  }

  /**
   * Before an event spreads (gossip validation): a cluster settings record
   * must carry the admin key's signature where the cluster has one.
   * Dropped as 'bad-signature' otherwise, and said once per record.
   */
  checkEvent (env: Envelope<'event'>): { ok: true } | { ok: false, reject: true, reason: 'bad-signature' } {
    const s = env.body.kind === 'settings' ? env.body.settings : undefined
    const refused = s === undefined ? undefined : this.settings.check(s)
    if (s === undefined || refused === undefined) return { ok: true }
    const key = `${env.host}/${s.version}/${s.setBy}/${s.at}`
    if (!this.refusedSettings.has(key)) {
      if (this.refusedSettings.size >= 1000) this.refusedSettings.clear()
      this.refusedSettings.add(key)
      this.log.warn('cluster settings dropped: not signed by the cluster admin key', { from: env.host, version: s.version, setBy: s.setBy, why: refused })
    }
    return { ok: false, reject: true, reason: 'bad-signature' }
  }

  /** Every event, ours and others', passes here. */
  onEvent (env: Envelope<'event'>): void {
    const e = env.body
    const now = this.ctx.now()
    if (e.kind === 'migration-started' && e.vm !== undefined) this.ledger.started(e.vm, e.from ?? env.host, e.to ?? '', env.round, now)
    else if (e.kind === 'migration-done' && e.vm !== undefined) { this.ledger.finished(e.vm); this.cooldown.moved(e.vm, env.round) } else if (e.kind === 'migration-failed' && e.vm !== undefined) this.ledger.finished(e.vm)
    else if (e.kind === 'approve' && e.round !== undefined) this.desk.onApprove(e.round, env.host)
    else if (e.kind === 'settings' && e.settings !== undefined) {
      const settings = e.settings
      this.settings.receive(settings, env.host).catch(err => this.log.error('could not record the cluster settings', { version: settings.version, error: (err as Error).message }))
    } else if ((e.kind === 'pin' || e.kind === 'unpin') && e.vm !== undefined) {
      this.pins.apply(e.vm, e.kind === 'pin', env.seq, env.host).catch(err => this.log.error('could not record a pin', { vm: e.vm, error: (err as Error).message }))
    }
  }

  // --- the operator's requests (control socket, API) ------------------------

  async handle (req: ControlRequest): Promise<ControlReply> {
    switch (req.op) {
      case 'controls': return { ok: true, message: this.describe(), data: this.status() }
      case 'approve': return req.round === undefined ? this.desk.listWaiting() : await this.approve(req.round)
      case 'pin': return req.vm === undefined ? this.pins.list() : await this.pin(req.vm, true)
      case 'unpin': return await this.pin(req.vm, false)
      case 'drain': return await this.drain(true)
      case 'undrain': return await this.drain(false)
      case 'cluster': return req.signed !== undefined ? await this.settings.setSigned(req.signed) : await this.cluster(req.set, req.unset)
      case 'revoke':
        if (this.ctx.revoke === undefined) return { ok: false, error: 'this cluster has no admin key (adminKey in the config): its members are the config\'s list; remove the host there (docs/operations.md)' }
        return await this.ctx.revoke({ body: req.revocation, sig: new Uint8Array(Buffer.from(req.sig, 'base64')) })
      case 'admin-key':
        if (this.ctx.adminKey === undefined) return { ok: false, error: 'this cluster has no admin key (adminKey in the config): its members are the config\'s list' }
        return await this.ctx.adminKey(req.rotate === undefined ? undefined : new Uint8Array(Buffer.from(req.rotate, 'base64')))
    }
  }

  status (): Record<string, unknown> {
    const now = this.ctx.now()
    return {
      host: this.ctx.host,
      mode: this.mode,
      draining: this.store.draining,
      vms: this.pins.ownVms(),
      pinned: this.store.pinned(),
      waiting: this.desk.book.list().map(w => ({ round: w.round, planner: w.planner, moves: w.plan.moves, costBefore: w.plan.initialCost, costAfter: w.plan.finalCost })),
      onTheMove: this.ledger.onTheMove(now),
      cooling: this.cooldown.cooling(roundAt(now, this.ctx.timing)),
      safety: this.safety,
      settings: { version: this.settings.version, effective: this.settings.rows() }
    }
  }

  private describe (): string {
    const s = this.status() as { mode: string, draining: boolean, vms: string[], pinned: string[], waiting: unknown[], onTheMove: unknown[], cooling: string[] }
    return [
      `host ${this.ctx.host}: mode ${s.mode}${s.draining ? `, draining (${s.vms.length} VMs left)` : ''}`,
      `pinned: ${s.pinned.length === 0 ? 'none' : s.pinned.join(' ')}`,
      `waiting for approval: ${s.waiting.length}; migrations on the move: ${s.onTheMove.length}; cooling down: ${s.cooling.length === 0 ? 'none' : s.cooling.join(' ')}`
    ].join('\n')
  }

  /** `heliotrope approve <round>` (approval-desk.ts). */
  async approve (round: number): Promise<ControlReply> {
    return await this.desk.approve(round)
  }

  /** `heliotrope cluster`: with a change, sets it cluster-wide; without, shows the settings in effect here. */
  private async cluster (set: Record<string, unknown> | undefined, unset: string[] | undefined): Promise<ControlReply> {
    if (set === undefined && unset === undefined) return this.settings.show()
    let change: ReturnType<typeof checkChange>
    try {
      change = checkChange(set ?? {}, unset ?? [])
    } catch (err) {
      return { ok: false, error: (err as Error).message }
    }
    return await this.settings.set(change)
  }

  /** Each cluster-settable value in effect here, with its source. */
  settingRows (): SettingRow[] {
    return this.settings.rows()
  }

  /** Whether a waiting plan still fits the cluster now (and, with `gain`, still lowers its cost). */
  private check (w: WaitingPlan, gain: boolean): PlanCheck {
    // Checked against the placement rules too, as the plan was made (a rule added since stops it).
    return checkPlanNow(ruledSnapshot(this.ctx.snapshot(), this.planner).snapshot, w.plan.moves, { cost: plannerConfig(this.planner), gain })
  }

  /** `heliotrope pin|unpin` (pins-and-drain.ts). */
  async pin (vm: string, pinned: boolean): Promise<ControlReply> {
    return await this.pins.pin(vm, pinned)
  }

  /** `heliotrope drain|undrain` (pins-and-drain.ts). */
  async drain (draining: boolean): Promise<ControlReply> {
    return await this.pins.drain(draining)
  }
}
