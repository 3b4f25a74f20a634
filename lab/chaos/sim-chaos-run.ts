/**
 * Chaos on the in-process simulation: real agents (lab/sim/cluster.ts), sim
 * hypervisors, and a seeded schedule of faults: agents killed and restarted
 * (some with a skewed clock), messages lost, DCs partitioned, migrations
 * slowed or failing. After every round the invariants are checked against
 * what the hypervisors (the world directory) and the agents recorded.
 */
import type { Agent } from '../../agent/agent.ts'
import { checkInvariants, pingPongs, splitRounds, type AgentRound, type Violation } from '../../lib/invariants.ts'
import { Random } from '../../lib/random.ts'
import { roundAt } from '../../lib/rounds.ts'
import { startCluster, type SimCluster } from '../sim/cluster.ts'
import { worldFromScenario } from '../sim/scenario-world.ts'
import { faultyNode } from './faulty-node.ts'
import { FAULT_KINDS, FaultState, type FaultKind } from './faults.ts'
import { definedOnly } from '../../lib/defined.ts'

export interface ChaosOptions {
  agents: number
  vms: number
  rounds: number
  seed: number
  roundPeriodMs?: number
  /** Probability per round of each fault kind being injected. */
  rate?: number
  /** Clock skew given to agents restarted with a skew, in ms (within the documented tolerance). */
  skewMs?: number
  onRound?: (line: string) => void
}

export interface ChaosReport {
  rounds: number
  faults: Record<FaultKind, number>
  violations: Violation[]
  splitRounds: number[]
  /** For each split round: host:planner@rank of every agent that acted. */
  splitDetails: string[]
  pingPongs: number
  moves: number
  lostMessages: number
  roundsWithPlan: number
  /**
   * What the agents refused, summed over every agent (each restart too):
   * gossip drops by reason, and migrate requests refused as `refused:<reason>`
   * (docs/design.md#invariant-5; foreign-vm is #invariant-4's traffic half).
   */
  drops: Record<string, number>
}

export const PING_PONG_ROUNDS = 3

export async function runSimChaos (opts: ChaosOptions): Promise<ChaosReport> {
  const rng = new Random(opts.seed)
  const spec = worldFromScenario({ agents: opts.agents, vms: opts.vms, dcs: 3, seed: opts.seed, kind: 'clustered' })
  const period = opts.roundPeriodMs ?? 2000
  const faults = new FaultState(rng, spec.hosts)
  const skews = new Map<string, number>()
  const cluster: SimCluster = await startCluster({
    ...spec,
    transport: 'memory',
    roundPeriodMs: period,
    connectionMonitor: false,
    planner: { maxMoves: 6, maxMovesPerHost: 2, minGain: 0.001 },
    agentOptions: (host: string) => ({
      wrapNode: node => faultyNode(node, faults.forHost(host)),
      ...(skews.has(host) ? { clock: () => Date.now() + skews.get(host)! } : {})
    })
  })
  const everyAgent: Agent[] = [...cluster.agents.values()]
  for (const a of everyAgent) faults.learnPeer(a.host, a.peerId)

  const counts = Object.fromEntries(FAULT_KINDS.map(k => [k, 0])) as Record<FaultKind, number>
  const capacity = new Map(spec.hosts.map(h => [h.host, { memoryMiB: h.memoryMiB, vcpus: h.vcpus }]))
  const vmIds = new Set(spec.vms.map(v => v.id))
  const violations: Violation[] = []
  const down = new Map<string, number>() // host -> round to restart at
  const dcs = [...new Set(spec.hosts.map(h => h.dc))]
  const rate = opts.rate ?? 0.3
  let healAt = -1
  const timing = everyAgent[0]!.timing
  const start = roundAt(Date.now(), timing) + 1
  try {
    for (let r = start; r < start + opts.rounds; r++) {
      await untilRound(r, timing.periodMs)
      // Faults for this round, drawn from the seed.
      if (healAt === r) { faults.heal(); healAt = -1 }
      faults.clearLoss()
      for (const [host, at] of [...down]) {
        if (at > r) continue
        down.delete(host)
        const skewed = rng.next() < 0.5
        if (skewed) { skews.set(host, (rng.next() < 0.5 ? -1 : 1) * (opts.skewMs ?? Math.floor(period * 0.04))); counts['skewed-restart']++ } else { skews.delete(host); counts.restart++ }
        const agent = await cluster.start(host)
        everyAgent.push(agent)
      }
      const live = [...cluster.agents.values()]
      if (rng.next() < rate && down.size < Math.floor(opts.agents / 3)) {
        const victim = rng.pick(live)
        await victim.halt()
        cluster.agents.delete(victim.host)
        down.set(victim.host, r + rng.int(1, 3))
        counts.kill++
      }
      if (rng.next() < rate) {
        for (const a of live) if (rng.next() < 0.5) faults.setLoss(a.host, 0.2)
        counts['message-loss']++
      }
      if (healAt < 0 && rng.next() < rate / 2) {
        const dc = rng.pick(dcs)
        faults.partition(dc, dcs.filter(d => d !== dc))
        healAt = r + rng.int(1, 2)
        counts.partition++
      }
      if (rng.next() < rate) {
        const vms = spec.vms.filter(() => rng.next() < 0.2).map(v => v.id)
        await cluster.world.setSlowdown(Object.fromEntries(vms.map(v => [v, 20])))
        counts['slow-migration']++
      }
      if (rng.next() < rate) {
        await cluster.world.setFailing(spec.vms.filter(() => rng.next() < 0.2).map(v => v.id))
        counts['failing-migration']++
      }
      // The invariants, after every round, from the hypervisors' truth.
      const placed = (await cluster.world.vms()).map(v => ({ vm: v.id, host: v.host, memoryMiB: v.memoryMiB, vcpus: v.vcpus }))
      const found = checkInvariants({ vms: vmIds, placed, capacity, rounds: agentRounds(everyAgent) })
      for (const v of found) if (!violations.some(x => x.detail === v.detail)) violations.push(v)
      opts.onRound?.(`round ${r - start + 1}/${opts.rounds}: ${cluster.agents.size} agents up, ${down.size} down, violations so far ${violations.length}`)
    }
    await untilRound(start + opts.rounds + 1, timing.periodMs)
  } finally {
    await cluster.close()
  }
  const rounds = agentRounds(everyAgent).filter(r => r.round >= start && r.round < start + opts.rounds)
  const planned = new Set(rounds.filter(r => r.planner !== undefined).map(r => r.round))
  return {
    rounds: opts.rounds,
    faults: counts,
    violations,
    splitRounds: splitRounds(rounds),
    splitDetails: splitRounds(rounds).map(r => `round ${r}: ` + everyAgent.filter(a => a.rounds.get(r)?.acted === true).map(a => `${a.host}:${a.rounds.get(r)!.planner}@${a.rounds.get(r)!.rank}`).join(' ')),
    pingPongs: pingPongs(rounds, PING_PONG_ROUNDS).length,
    moves: rounds.reduce((s, r) => s + r.moves.filter(m => m.ok).length, 0),
    lostMessages: faults.lost,
    roundsWithPlan: planned.size,
    drops: dropsOf(everyAgent)
  }
}

function dropsOf (agents: Agent[]): Record<string, number> {
  const out: Record<string, number> = {}
  const add = (key: string, n: number): void => { out[key] = (out[key] ?? 0) + n }
  for (const a of agents) {
    for (const [reason, n] of Object.entries(a.view.drops)) add(reason, n)
    for (const [reason, n] of Object.entries(a.counters.migrateRefused)) add(`refused:${reason}`, n)
  }
  return out
}

function agentRounds (agents: Agent[]): AgentRound[] {
  return agents.flatMap(a => [...a.rounds.values()].map(rec => ({
    host: a.host,
    round: rec.round,
    ...definedOnly({ planner: rec.planner }),
    acted: rec.acted === true,
    moves: rec.outcomes.map(o => ({ vm: o.vm, from: o.from, to: o.to, ok: o.ok }))
  })))
}

async function untilRound (round: number, periodMs: number): Promise<void> {
  const wait = round * periodMs - Date.now()
  if (wait > 0) await new Promise(resolve => setTimeout(resolve, wait))
}
