/**
 * The topology this agent runs, and the switch to a staged one (docs/design.md
 * §3.8): a reload with a new topology file stages it, every state then says
 * so, and once every up member has staged it (or runs it) each agent
 * switches at the round lib/topology-switch.ts computes from the states,
 * the same everywhere. Every part that uses the topology (the view's hash
 * check, the states, the digests, planning, the API) reads it here at each
 * use, so the switch is one assignment.
 */
import type { Topology } from '../../lib/topology.ts'
import { switchRound, type MemberTopology, type SwitchDecision } from '../../lib/topology-switch.ts'
import type { ReplicatedView } from '../../lib/view.ts'
import type { StagedTopology } from '../../lib/wire/messages.ts'
import type { Logger } from '../log.ts'

/** A topology file as the agent holds it: parsed, its bytes' sha256, and where it was read. */
export interface TopologyFile {
  topology: Topology
  hash: string
  file: string
}

/** After a switch, states on the previous hash are still taken for this many rounds (one in flight across the boundary). */
export const PREVIOUS_TOPOLOGY_ROUNDS = 1

export type StageResult = 'staged' | 'already-staged' | 'withdrawn' | 'running'

export interface TopologySwitchComponents {
  host: string
  view: ReplicatedView
  log: Logger
  /** Called once the staged topology runs (the agent's config then names its file). */
  switched?: (now: TopologyFile) => void
}

export class TopologySwitch {
  private readonly c: TopologySwitchComponents
  private current: TopologyFile
  private next: (TopologyFile & { round: number }) | undefined
  /** The staging the last switch took, still said in our states (see switchRound) until another is staged. */
  private switchedOn: StagedTopology | undefined
  /** The hash run before the last switch, taken until the end of `untilRound`. */
  private previous: { hash: string, untilRound: number } | undefined

  constructor (components: TopologySwitchComponents, running: TopologyFile) {
    this.c = components
    this.current = running
    this.setViewTopologies()
  }

  get topology (): Topology {
    return this.current.topology
  }

  get hash (): string {
    return this.current.hash
  }

  /** The staged topology, waiting for its switch. */
  get staged (): StagedTopology | undefined {
    return this.next === undefined ? undefined : { topology: this.next.hash, round: this.next.round }
  }

  /** What this host's state says it staged: the waiting one, or after a switch the staging it switched on. */
  get advertised (): StagedTopology | undefined {
    return this.staged ?? this.switchedOn
  }

  /**
   * A reload's topology file. The running bytes withdraw a staged topology
   * (the operator changed their mind); new bytes are staged in `round`,
   * replacing any other staged; the staged bytes again keep their round,
   * so a reload for another reason does not push the switch back.
   */
  stage (file: TopologyFile, round: number): StageResult {
    const log = this.c.log
    if (file.hash === this.current.hash) {
      if (this.next === undefined) return 'running'
      log.warn('staged topology withdrawn: the reloaded file is the running one', { host: this.c.host, running: this.current.hash, withdrawn: this.next.hash })
      this.next = undefined
      this.setViewTopologies()
      return 'withdrawn'
    }
    if (file.hash === this.next?.hash) return 'already-staged'
    this.next = { ...file, round }
    this.switchedOn = undefined
    this.setViewTopologies()
    log.info('topology staged: it switches when every live member has staged it', { host: this.c.host, running: this.current.hash, staged: file.hash, round, file: file.file })
    return 'staged'
  }

  /** Where the switch stands as this agent sees the up members now (undefined: nothing staged). */
  decision (nowMs: number): SwitchDecision | undefined {
    if (this.next === undefined) return undefined
    const { view, host } = this.c
    const members: MemberTopology[] = [{ host, running: this.current.hash, staged: this.staged! }]
    for (const m of view.members()) {
      if (m.host === host || !view.isUp(m.host, nowMs)) continue
      const s = m.state!
      members.push({ host: m.host, running: s.topology, ...(s.staged !== undefined ? { staged: s.staged } : {}) })
    }
    return switchRound(this.next.hash, members)
  }

  /** At each round's start: ends the previous hash's grace, and switches when the round is due. True when it switched. */
  roundStarted (round: number, nowMs: number): boolean {
    if (this.previous !== undefined && round > this.previous.untilRound) {
      this.previous = undefined
      this.setViewTopologies()
    }
    const d = this.decision(nowMs)
    if (d?.kind !== 'switch' || round < d.round) return false
    const old = this.current
    this.switchedOn = this.staged
    this.current = { topology: this.next!.topology, hash: this.next!.hash, file: this.next!.file }
    this.next = undefined
    this.previous = { hash: old.hash, untilRound: round + PREVIOUS_TOPOLOGY_ROUNDS }
    this.setViewTopologies()
    this.c.log.info('topology switched', { host: this.c.host, from: old.hash, to: this.current.hash, round, switchRound: Number.isFinite(d.round) ? d.round : round, file: this.current.file })
    this.c.switched?.(this.current)
    return true
  }

  private setViewTopologies (): void {
    const hashes = [this.current.hash]
    if (this.next !== undefined) hashes.push(this.next.hash)
    if (this.previous !== undefined) hashes.push(this.previous.hash)
    this.c.view.setTopologies(hashes)
  }
}
