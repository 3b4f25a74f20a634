/**
 * This host's state (HostState) in the cluster: read from the hypervisor,
 * sent when it changes, once in a while unchanged (a refresh), as a hello
 * in the first rounds, and again when a member asks (a hello) or proved to
 * hold a stale copy. Only the one place that decides when a state travels.
 */
import type { AgentConfig } from '../config.ts'
import type { HypervisorDriver, TrafficCollector } from '../drivers/types.ts'
import type { HostState } from '../../lib/wire/messages.ts'
import { spreadOffsetMs } from '../../lib/rounds.ts'
import type { Outbox } from './outbox.ts'
import type { TopologySwitch } from './topology-switch.ts'
import type { ClusterContext } from './types.ts'

/**
 * A host sends its state when it changes, and an unchanged one again once
 * in this many rounds in case a change was lost; its digest, sent every
 * round, keeps it live. (A state every round was half of the gossip before
 * planning, and on two cores for 64 agents the CPU for it queued every
 * message behind it: bench:gossip.)
 */
export const STATE_REFRESH_ROUNDS = 10
/** States a host sends in its first rounds say hello: every member answers with its own. */
export const HELLO_ROUNDS = 2

export interface StateOptions {
  onlyIfChanged?: boolean
  hello?: boolean
}

/** What only the layer above knows of this host's VMs: the operator's drain and pins, the migrations in flight; and the cluster settings version it holds. */
export interface LocalState {
  draining (): boolean
  pinned (vmId: string): boolean
  migrating (vmId: string): boolean
  /** The cluster settings version held (0: none): a member holding a newer one sends it again (agent/policy/cluster-settings.ts). */
  settingsVersion? (): number
}

export interface StateComponents extends ClusterContext {
  hypervisor: HypervisorDriver
  collector: TrafficCollector
  outbox: Outbox
  local: LocalState
  /** True once this host announced its leave. */
  leaving: () => boolean
  /** The round the loop is in (-1 before its first step). */
  round: () => number
  /** The topology run and the one staged, read at each state. */
  topology: Pick<TopologySwitch, 'hash' | 'advertised'>
}

export interface StateInit {
  config: AgentConfig
  /** Our member list's hash (agent/member-list.ts). */
  membersHash: string
}

export class HostStates {
  private readonly c: StateComponents
  private readonly config: AgentConfig
  private readonly membersHash: string
  /** The last state sent (without its hello flag). */
  private lastState = ''
  /** When to send our state again though it did not change: a newcomer said hello, or a peer's view of us proved stale. */
  private dueAtMs: number | undefined
  /** When such an extra state last went out: at most one per takeover slot. */
  private extraAtMs = -Infinity
  /** States go out one after the other (see publish). */
  private queue: Promise<unknown> = Promise.resolve()
  /** The VM addresses the collector counts for, as last told. */
  private countedAddresses = ''

  constructor (components: StateComponents, init: StateInit) {
    this.c = components
    this.config = init.config
    this.membersHash = init.membersHash
  }

  /**
   * Sends this host's state as the hypervisor reports it; with
   * `onlyIfChanged`, not when it is the state that went out last; with
   * `hello`, asking every member for its state. True when it went out.
   */
  async publish (opts: StateOptions = {}): Promise<boolean> {
    // One at a time: the round's publish and a migration's could both read
    // the hypervisor, and the one that read first could go out last, an
    // older state with a newer sequence number that no later round would
    // correct while nothing changes.
    const next = this.queue.then(async () => await this.send(opts))
    this.queue = next.catch(() => undefined)
    return await next
  }

  /** The round's own state: a hello in our first rounds, else only a change, or an unchanged one in this host's refresh round. */
  async publishForRound (round: number, greeting: boolean): Promise<boolean> {
    // In our first rounds every state goes out and says hello (the first
    // may have reached nobody yet). Later, an unchanged one goes out only
    // in this host's refresh round, each host in its own of every
    // STATE_REFRESH_ROUNDS, so the refreshes do not all come at once.
    const refresh = round % STATE_REFRESH_ROUNDS === spreadOffsetMs(`${this.c.host}/refresh`, STATE_REFRESH_ROUNDS)
    return await this.publish(greeting ? { hello: true } : { onlyIfChanged: !refresh })
  }

  /**
   * A newcomer (or a restarted host) said hello and knows no states yet:
   * answer with ours, at an offset of our own so the answers do not all
   * come at once. One answer serves every hello that came before it;
   * answers never say hello themselves, so two newcomers do not answer each
   * other forever.
   */
  answerHello (from: string, now: number): void {
    this.dueAtMs ??= now + spreadOffsetMs(`${this.c.host}/hello/${from}`, this.c.timing.takeoverMs)
  }

  /** A peer's view of us proved stale (a state of ours was lost on its way): send it again at the next chance. */
  resendSoon (now: number): void {
    this.dueAtMs ??= now
  }

  /** Sends the state asked for by answerHello or resendSoon once it is due. */
  async publishIfDue (now: number): Promise<void> {
    if (this.dueAtMs === undefined || now < this.dueAtMs || now < this.extraAtMs + this.c.timing.takeoverMs) return
    // One answer serves every hello before it; a cluster starting at once
    // says hello many times, and its answers stay within the flood bound.
    this.dueAtMs = undefined
    this.extraAtMs = now
    await this.publish()
  }

  private async send (opts: StateOptions): Promise<boolean> {
    const { local } = this.c
    // A VM arriving here is still its source's until the migration is done;
    // a stopped one stays ours but is not to be moved while it is down.
    const vms = (await this.c.hypervisor.list()).filter(v => v.status !== 'incoming')
    const draining = local.draining()
    const settings = local.settingsVersion?.() ?? 0
    const staged = this.c.topology.advertised
    const state: HostState = {
      dc: this.config.dc,
      memoryMiB: this.config.capacity.memoryMiB,
      vcpus: this.config.capacity.vcpus,
      address: this.config.address,
      topology: this.c.topology.hash,
      // The view's: signed membership changes it at run time (docs/design.md §3.7).
      members: this.c.view.membersHash ?? this.membersHash,
      leaving: this.c.leaving() || draining,
      ...(draining ? { draining: true } : {}),
      ...(settings > 0 ? { settings } : {}),
      ...(staged !== undefined ? { staged } : {}),
      vms: vms.map(v => ({
        id: v.id,
        addresses: v.addresses,
        memoryMiB: v.memoryMiB,
        vcpus: v.vcpus,
        pinned: local.pinned(v.id) || v.status === 'stopped',
        migrating: v.status === 'migrating' || local.migrating(v.id)
      }))
    }
    const text = JSON.stringify(state)
    const send = opts.onlyIfChanged !== true || text !== this.lastState
    if (send) {
      const { outbox } = this.c
      await outbox.send(outbox.envelope('host', Math.max(0, this.c.round()), opts.hello === true ? { ...state, hello: true } : state))
      this.lastState = text
    }
    const addresses = state.vms.flatMap(v => v.addresses).sort()
    if (this.c.collector.setLocalAddresses !== undefined && addresses.join() !== this.countedAddresses) {
      this.countedAddresses = addresses.join()
      await this.c.collector.setLocalAddresses(addresses)
    }
    return send
  }
}
