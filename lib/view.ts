/**
 * The replicated view every agent keeps: the newest HostState and
 * TrafficDigest per member, fed by validated gossip. It enforces the
 * message rules of docs/design.md §3.3 (a member speaks only for itself and its own
 * VMs, sequence numbers only go up) and counts every drop by reason. From it
 * an agent builds the planner's snapshot. Time comes in as arguments.
 */
import type { Flow, Host, Snapshot, Vm } from './model.ts'
import { SNAPSHOT_VERSION } from './model.ts'
import type { Topology } from './topology.ts'
import type { Envelope, HostState, Topic, TrafficDigest } from './wire/messages.ts'

export const DROP_REASONS = [
  'oversized', 'malformed', 'schema', 'wrong-topic', // decoding (lib/wire/codec.ts)
  'not-member', 'observer', 'impersonation', 'replay', 'foreign-vm', 'topology-mismatch', // the view
  'not-elected', 'stale-round', 'plan-mismatch', 'rate-limited', // the agent's plan and flood checks
  'bad-signature', // a relayed item not signed by its author (tiered dissemination, agent/cluster/tiered/)
  'revoked', 'expired', // a peer whose certificate was revoked or ran out (signed membership, lib/membership.ts)
  'superseded' // a host's old peer id, after a newer certificate of the host (a rotated peer key) took its place
] as const
export type ViewDropReason = typeof DROP_REASONS[number]

/** Why a peer that was a member is no longer one (signed membership, docs/design.md §3.7). */
export type RefusedReason = 'revoked' | 'expired' | 'superseded'

export interface Member {
  host: string
  peerId: string
}

export interface MemberRecord extends Member {
  state?: HostState
  digest?: TrafficDigest
  /** Highest seq accepted per topic. */
  seq: Record<Topic, number>
  lastSeenMs: number
  /** When the state was accepted (to order conflicting claims on a VM). */
  stateAtMs: number
  /**
   * Set when the member's newest state was on a topology we do not take
   * (docs/design.md §3.8): the state we hold is stale, so the member is not
   * up (its digests still come) until a state we take arrives.
   */
  otherTopology?: boolean
}

export type Verdict = { ok: true } | { ok: false, reason: ViewDropReason, reject: boolean }

export interface ViewInit {
  members: readonly Member[]
  /** Peer ids that may join the mesh to watch (the console) but never speak. */
  observers?: readonly string[]
  /** A member silent this long is down. */
  downAfterMs: number
  /** The hash of our topology: states with another are dropped (but see setTopologies). */
  topology?: string
  /**
   * The hash of our member list (agent/member-list.ts computes it): states
   * with another are kept, but their senders' votes do not count (see
   * agreesOnMembers). Absent: every member agrees.
   */
  membersHash?: string
}

/** A member whose latest state carries a member-list hash other than ours (none: an older agent that sends none). */
export interface MemberListMismatch {
  host: string
  peerId: string
  hash: string | undefined
}

export class ReplicatedView {
  private readonly byPeer = new Map<string, MemberRecord>()
  private readonly byHost = new Map<string, MemberRecord>()
  private readonly observers: ReadonlySet<string>
  private readonly downAfterMs: number
  /** Topology hashes a state may run or have staged to be taken (setTopologies); empty: any. */
  private topologies: ReadonlySet<string>
  private ourMembersHash: string | undefined
  /** Peers that were members and are no longer, with why: their messages are dropped with that reason, not as 'not-member'. */
  private readonly refused = new Map<string, RefusedReason>()
  readonly drops: Record<ViewDropReason, number>

  constructor (init: ViewInit) {
    for (const m of init.members) {
      const rec: MemberRecord = { ...m, seq: { host: -1, traffic: -1, plan: -1, event: -1 }, lastSeenMs: -Infinity, stateAtMs: -Infinity }
      this.byPeer.set(m.peerId, rec)
      this.byHost.set(m.host, rec)
    }
    this.observers = new Set(init.observers ?? [])
    this.downAfterMs = init.downAfterMs
    this.topologies = new Set(init.topology === undefined ? [] : [init.topology])
    this.ourMembersHash = init.membersHash
    this.drops = Object.fromEntries(DROP_REASONS.map(r => [r, 0])) as Record<ViewDropReason, number>
  }

  /** Our member list's hash (docs/design.md §5.3): it changes when signed membership admits or removes a member. */
  get membersHash (): string | undefined {
    return this.ourMembersHash
  }

  /**
   * A new member list (signed membership, docs/design.md §3.7): members
   * not held yet are added (unheard of), members held and not listed are
   * removed with their record (a removed member's state must not count
   * or be planned with), and their messages from now on are dropped as
   * `refused` says (revoked, expired, superseded). The static members of
   * the config are always in `members`.
   *
   * A host listed under a new peer id (its peer key rotated: a newer
   * certificate of the same host) keeps what we heard of it: its state
   * (its VMs), digest and when it was last heard move to the new peer id.
   * It is the same host, restarting with a new key: the others see what a
   * plain restart looks like, not its VMs vanishing until its first state
   * under the new key. Its sequence numbers start over: a message signed
   * by the old key can never pass for the new peer's, and a high number
   * sent with a leaked old key must not hold back the host's own.
   */
  setMembers (members: readonly Member[], membersHash: string, refused: ReadonlyMap<string, RefusedReason>): void {
    const keep = new Set(members.map(m => m.peerId))
    const rekeyed = new Map<string, MemberRecord>()
    for (const [peerId, rec] of this.byPeer) {
      if (keep.has(peerId)) continue
      this.byPeer.delete(peerId)
      if (this.byHost.get(rec.host) === rec) { this.byHost.delete(rec.host); rekeyed.set(rec.host, rec) }
    }
    for (const m of members) {
      if (this.byPeer.has(m.peerId)) continue
      const old = rekeyed.get(m.host)
      const rec: MemberRecord = old !== undefined
        ? { ...old, ...m, seq: { host: -1, traffic: -1, plan: -1, event: -1 } }
        : { ...m, seq: { host: -1, traffic: -1, plan: -1, event: -1 }, lastSeenMs: -Infinity, stateAtMs: -Infinity }
      this.byPeer.set(m.peerId, rec)
      this.byHost.set(m.host, rec)
      this.refused.delete(m.peerId)
    }
    for (const [peerId, why] of refused) if (!keep.has(peerId)) this.refused.set(peerId, why)
    this.ourMembersHash = membersHash
  }

  /**
   * The topology hashes a state may carry (docs/design.md §3.8): the one we
   * run and, around a switch, the one we staged and the one we ran before.
   * A state is taken when the hash it runs or the hash it staged is among
   * them: a member that staged what we switched to is about to switch too.
   */
  setTopologies (hashes: readonly string[]): void {
    this.topologies = new Set(hashes)
  }

  /** Counts a drop decided elsewhere (decoding, plan checks), by reason. */
  countDrop (reason: ViewDropReason): void {
    this.drops[reason]++
  }

  hostOfPeer (peerId: string): string | undefined {
    return this.byPeer.get(peerId)?.host
  }

  member (host: string): MemberRecord | undefined {
    return this.byHost.get(host)
  }

  members (): MemberRecord[] {
    return [...this.byHost.values()].sort((a, b) => (a.host < b.host ? -1 : 1))
  }

  /**
   * Checks the sender and the sequence number without applying anything.
   * `reject` verdicts are held against the sending peer; ignores are not.
   */
  check (env: Envelope, fromPeer: string): Verdict {
    const rec = this.byPeer.get(fromPeer)
    if (rec === undefined) return this.observers.has(fromPeer) ? drop('observer', true) : drop(this.refused.get(fromPeer) ?? 'not-member', true)
    if (env.host !== rec.host) return drop('impersonation', true)
    if (env.seq <= rec.seq[env.topic]) return drop('replay', false)
    if (env.topic === 'host' && !this.takesTopology(env.body as HostState)) return drop('topology-mismatch', false)
    if (env.topic === 'traffic') {
      // A host reports traffic only for VMs its own latest state lists. Ignored,
      // not rejected: the check depends on which state of the host reached us
      // first, and right after a migration an honest digest can overtake the
      // state that lists the arrived VM; a reject would count against the
      // peer that forwarded it, checked against a view where it was fine.
      const own = new Set(rec.state?.vms.map(v => v.id) ?? [])
      if ((env.body as TrafficDigest).vms.some(v => !own.has(v.vm))) return drop('foreign-vm', false)
    }
    return { ok: true }
  }

  private takesTopology (s: HostState): boolean {
    if (this.topologies.size === 0 || this.topologies.has(s.topology)) return true
    return s.staged !== undefined && this.topologies.has(s.staged.topology)
  }

  /**
   * A newer state of `host` was dropped as `topology-mismatch`: the one we
   * hold no longer says what the member runs, so it stops counting as up
   * (no planner candidate, target, or VMs in the snapshot) until a state
   * on a topology we take arrives.
   */
  otherTopology (host: string): void {
    const rec = this.byHost.get(host)
    if (rec !== undefined) rec.otherTopology = true
  }

  /** check() then apply: the one entry point for gossip. Counts drops. */
  accept (env: Envelope, fromPeer: string, nowMs: number): Verdict {
    const v = this.check(env, fromPeer)
    if (!v.ok) { this.drops[v.reason]++; return v }
    const rec = this.byPeer.get(fromPeer)!
    rec.seq[env.topic] = env.seq
    rec.lastSeenMs = nowMs
    if (env.topic === 'host') { rec.state = env.body as HostState; rec.stateAtMs = nowMs; delete rec.otherTopology }
    if (env.topic === 'traffic') rec.digest = env.body as TrafficDigest
    return v
  }

  /**
   * True when `host`'s latest state carries our member-list hash: only such
   * a member's vote counts for a plan (docs/design.md §5.3). A member we
   * have no state of yet does not agree: we cannot tell.
   */
  agreesOnMembers (host: string): boolean {
    if (this.membersHash === undefined) return true
    return this.byHost.get(host)?.state?.members === this.membersHash
  }

  /** The members whose latest state says their member list differs from ours. */
  memberListMismatches (): MemberListMismatch[] {
    if (this.membersHash === undefined) return []
    return this.members()
      .filter(m => m.state !== undefined && m.state.members !== this.membersHash)
      .map(m => ({ host: m.host, peerId: m.peerId, hash: m.state!.members }))
  }

  /** Records that we heard from a member without a state change (e.g. our own publish). */
  touch (host: string, nowMs: number): void {
    const rec = this.byHost.get(host)
    if (rec !== undefined) rec.lastSeenMs = nowMs
  }

  isUp (host: string, nowMs: number): boolean {
    const rec = this.byHost.get(host)
    return rec !== undefined && rec.state !== undefined && rec.otherTopology !== true && nowMs - rec.lastSeenMs <= this.downAfterMs
  }

  /** Members up and not leaving: the planner candidates and migration targets. */
  live (nowMs: number): MemberRecord[] {
    return this.members().filter(m => this.isUp(m.host, nowMs) && m.state?.leaving !== true)
  }

  /**
   * The planner's input: live hosts, their VMs, and the flows their digests
   * report. A VM claimed by two hosts (gossip caught it mid-migration) is
   * kept once, on the host whose claim is newer, and pinned for the round;
   * migrating VMs are pinned too. Hosts that are leaving keep their VMs but
   * get no room (capacity 0) so nothing moves to them; drained ones are
   * marked so planners move their VMs away.
   */
  snapshot (topology: Topology, nowMs: number): Snapshot {
    const up = this.members().filter(m => this.isUp(m.host, nowMs))
    const hosts: Host[] = []
    const claims = new Map<string, { vm: Vm, at: number, contested: boolean }>()
    for (const m of up) {
      const s = m.state!
      const leaving = s.leaving
      const host: Host = { id: m.host, dc: s.dc, memoryMiB: leaving ? 0 : s.memoryMiB, vcpus: leaving ? 0 : s.vcpus }
      if (s.draining === true) host.draining = true
      hosts.push(host)
      for (const v of s.vms) {
        const vm: Vm = { id: v.id, host: m.host, addresses: v.addresses, memoryMiB: v.memoryMiB, vcpus: v.vcpus, pinned: v.pinned || v.migrating }
        const prev = claims.get(v.id)
        if (prev === undefined) claims.set(v.id, { vm, at: m.stateAtMs, contested: false })
        else if (m.stateAtMs > prev.at) claims.set(v.id, { vm, at: m.stateAtMs, contested: true })
        else prev.contested = true
      }
    }
    const vms = [...claims.values()].map(c => (c.contested ? { ...c.vm, pinned: true } : c.vm))
    // Leaving hosts are over capacity by construction: a VM stays, but the
    // snapshot validator needs only ids, so capacity 0 is fine there.
    const known = new Set([...vms.map(v => v.id), ...topology.prefixes.map(p => p.id)])
    const dcs = new Set(topology.dcs.map(d => d.id))
    const flows: Flow[] = []
    for (const m of up) {
      if (!dcs.has(m.state!.dc)) continue
      const mine = new Set(m.state!.vms.map(v => v.id))
      for (const e of m.digest?.vms ?? []) {
        if (!mine.has(e.vm) || claims.get(e.vm)?.vm.host !== m.host) continue
        for (const p of e.peers) {
          if (!known.has(p.peer) || p.peer === e.vm) continue
          if (p.out > 0) flows.push({ src: e.vm, dst: p.peer, bps: p.out })
          if (p.in > 0 && topology.prefixes.some(x => x.id === p.peer)) flows.push({ src: p.peer, dst: e.vm, bps: p.in })
        }
      }
    }
    const placed = new Set(hosts.filter(h => dcs.has(h.dc)).map(h => h.id))
    return {
      version: SNAPSHOT_VERSION,
      dcs: topology.dcs,
      links: topology.links,
      hosts: hosts.filter(h => placed.has(h.id)),
      vms: vms.filter(v => placed.has(v.host)),
      prefixes: topology.prefixes,
      flows
    }
  }
}

function drop (reason: ViewDropReason, reject: boolean): Verdict {
  return { ok: false, reason, reject }
}
