/**
 * Watches a cluster's agents through Agent.observe(): when each agent
 * accepted each round's plan, how many gossip messages (and bytes) each
 * published and received per round, and how long every traffic digest took
 * from its sender to the last other agent. Agents in other processes report
 * the same events, made compact (compactEvent), through record().
 */
import type { Agent, AgentEvent } from '../../agent/agent.ts'
import { roundAt, roundStartMs, type RoundTiming } from '../../lib/rounds.ts'
import type { Envelope, Topic } from '../../lib/wire/messages.ts'

/** A digest's envelope seq is its creation time in µs (the agent stamps seqs from the clock). */
const SEQ_PER_MS = 1000
/** A seq-derived send time is used only this close before the 'published' event. */
const SEQ_CLOCK_WINDOW_MS = 60_000

/** The part of an envelope the observer reads. */
export interface EnvelopeHead { host: string, round: number, seq: number }

/** The agent events the observer counts, without their payloads: small enough to ship between processes. */
export type ObservedEvent =
  | { type: 'plan-accepted', round: number, planner: string, rank: number, atMs: number }
  | { type: 'published', topic: Topic, env: EnvelopeHead, bytes: number, atMs: number, plan?: PlanHead }
  | { type: 'gossip', topic: Topic, env: EnvelopeHead, atMs: number, plan?: PlanHead }
  | { type: 'drop', reason: string, atMs: number }

/** A plan's outline: what a round summary tells of it. */
export interface PlanHead { initialCost: number, finalCost: number, moves: number }

export function compactEvent (e: AgentEvent): ObservedEvent | undefined {
  switch (e.type) {
    case 'plan-accepted': return { type: e.type, round: e.round, planner: e.planner, rank: e.rank, atMs: e.atMs }
    case 'published': return { type: e.type, topic: e.topic, env: head(e.env), bytes: e.bytes, atMs: e.atMs, ...planHead(e.env) }
    case 'gossip': return { type: e.type, topic: e.topic, env: head(e.env), atMs: e.atMs, ...planHead(e.env) }
    case 'drop': return { type: e.type, reason: e.reason, atMs: e.atMs }
    default: return undefined
  }
}

function head (env: Envelope): EnvelopeHead {
  return { host: env.host, round: env.round, seq: env.seq }
}

function planHead (env: Envelope): { plan?: PlanHead } {
  if (env.topic !== 'plan') return {}
  const body = env.body as Envelope<'plan'>['body']
  return { plan: { initialCost: body.initialCost, finalCost: body.finalCost, moves: body.moves.length } }
}

export interface RoundTally {
  /** Per host: when it accepted a plan for the round (its own, for the planner). */
  accepted: Map<string, number>
  /** Per host: whose plan it accepted, and that planner's rank. */
  acceptedFrom: Map<string, { planner: string, rank: number }>
  /** Per planner: the outline of the plan it sent for the round. */
  plans: Map<string, PlanHead>
  /** Per planner: when it sent its plan. */
  planSentMs: Map<string, number>
  published: number
  publishedBytes: number
  received: number
  /** Messages agents dropped, by reason (schema, replay, not-elected, stale-round, ...). */
  drops: Map<string, number>
}

/** A slow digest, for finding where the tail comes from: when in its round it went out, when half and when all the agents had it (ms after it went out), and who was last. */
export interface SlowDigest { host: string, round: number, sentInRoundMs: number, medianMs: number, lastMs: number, lastHost: string }
/** How many of the slowest digests dissemination() describes. */
const SLOWEST_KEPT = 8

export interface Digest {
  host: string
  round: number
  /** When the sender made it; undefined until its 'published' event. */
  sentMs: number | undefined
  arrivals: number
  lastMs: number
  /** The agent the digest reached last. */
  lastHost: string
  /** Every arrival, for the spread between the first and the last agent. */
  arrivalMs: number[]
}

export class ClusterObserver {
  readonly rounds = new Map<number, RoundTally>()
  readonly digests = new Map<string, Digest>()
  readonly timing: RoundTiming
  private readonly detach: Array<() => void> = []
  private watched = 0

  constructor (timing: RoundTiming) {
    this.timing = timing
  }

  /** The number of agents watched: a digest is complete when all others got it. */
  get size (): number {
    return this.watched
  }

  watch (agents: Iterable<Agent>): void {
    for (const agent of agents) {
      this.watched++
      this.detach.push(agent.observe(event => {
        const e = compactEvent(event)
        if (e !== undefined) this.record(agent.host, e)
      }))
    }
  }

  /** Counts `n` agents watched elsewhere (their events come through record()). */
  watchRemote (n: number): void {
    this.watched += n
  }

  close (): void {
    for (const d of this.detach.splice(0)) d()
  }

  tally (round: number): RoundTally {
    let t = this.rounds.get(round)
    if (t === undefined) {
      t = { accepted: new Map(), acceptedFrom: new Map(), plans: new Map(), planSentMs: new Map(), published: 0, publishedBytes: 0, received: 0, drops: new Map() }
      this.rounds.set(round, t)
    }
    return t
  }

  /** Send-to-last-arrival times (ms) of the digests of rounds [from, to] that reached every other agent, and how many did not. */
  dissemination (from: number, to: number): { latencies: number[], incomplete: number, slowest: SlowDigest[] } {
    const latencies: number[] = []
    const complete: Digest[] = []
    let incomplete = 0
    for (const d of this.digests.values()) {
      if (d.round < from || d.round > to) continue
      if (d.sentMs !== undefined && d.arrivals >= this.watched - 1) { latencies.push(d.lastMs - d.sentMs); complete.push(d) } else incomplete++
    }
    const slowest = complete.sort((a, b) => (b.lastMs - b.sentMs!) - (a.lastMs - a.sentMs!)).slice(0, SLOWEST_KEPT).map(d => {
      const sorted = [...d.arrivalMs].sort((a, b) => a - b)
      return { host: d.host, round: d.round, sentInRoundMs: d.sentMs! - roundStartMs(d.round, this.timing), medianMs: sorted[sorted.length >> 1]! - d.sentMs!, lastMs: d.lastMs - d.sentMs!, lastHost: d.lastHost }
    })
    return { latencies, incomplete, slowest }
  }

  /** One event seen by the agent of `host`. */
  record (host: string, e: ObservedEvent): void {
    switch (e.type) {
      case 'plan-accepted':
        if (!this.tally(e.round).accepted.has(host)) {
          this.tally(e.round).accepted.set(host, e.atMs)
          this.tally(e.round).acceptedFrom.set(host, { planner: e.planner, rank: e.rank })
        }
        return
      case 'published': {
        const t = this.tally(roundAt(e.atMs, this.timing))
        t.published++
        t.publishedBytes += e.bytes
        if (e.plan !== undefined) {
          this.tally(e.env.round).plans.set(e.env.host, e.plan)
          this.tally(e.env.round).planSentMs.set(e.env.host, e.atMs)
        }
        if (e.topic === 'traffic') {
          const d = this.digest(e.env)
          // The event fires after publish() resolves; the seq says when the
          // envelope was made, just before it was encoded and sent.
          const made = e.env.seq / SEQ_PER_MS
          d.sentMs = made <= e.atMs && made > e.atMs - SEQ_CLOCK_WINDOW_MS ? made : e.atMs
        }
        return
      }
      case 'gossip':
        this.tally(roundAt(e.atMs, this.timing)).received++
        if (e.plan !== undefined) this.tally(e.env.round).plans.set(e.env.host, e.plan)
        if (e.topic === 'traffic') {
          const d = this.digest(e.env)
          d.arrivals++
          d.arrivalMs.push(e.atMs)
          if (e.atMs >= d.lastMs) { d.lastMs = e.atMs; d.lastHost = host }
        }
        return
      case 'drop': {
        const drops = this.tally(roundAt(e.atMs, this.timing)).drops
        drops.set(e.reason, (drops.get(e.reason) ?? 0) + 1)
        return
      }
    }
  }

  private digest (env: EnvelopeHead): Digest {
    const key = `${env.host}\n${env.seq}`
    let d = this.digests.get(key)
    if (d === undefined) {
      d = { host: env.host, round: env.round, sentMs: undefined, arrivals: 0, lastMs: 0, lastHost: '', arrivalMs: [] }
      this.digests.set(key, d)
    }
    return d
  }
}
