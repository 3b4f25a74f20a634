/**
 * The invariants of docs/design.md §7, checked from what the cluster did: where the
 * hypervisors say each VM runs, and what each agent recorded per round. The
 * chaos runs call this after every round. Pure: data in, violations out.
 */

export interface Placed {
  vm: string
  host: string
  memoryMiB: number
  vcpus: number
}

export interface AgentRound {
  /** The agent (host) that recorded this. */
  host: string
  round: number
  /** The plan it accepted for the round (its planner), if any. */
  planner?: string
  /** Whether it acted on the plan (started carrying out its share). */
  acted: boolean
  /** Migrations it carried out for the round, with their outcome. */
  moves: Array<{ vm: string, from: string, to: string, ok: boolean }>
}

export interface Violation {
  invariant: 1 | 2 | 3 | 4
  detail: string
}

export interface InvariantInput {
  /** Every VM that exists, by id. */
  vms: ReadonlySet<string>
  /** Where the hypervisors say VMs run (one entry per VM per host it runs on). */
  placed: readonly Placed[]
  capacity: ReadonlyMap<string, { memoryMiB: number, vcpus: number }>
  rounds: readonly AgentRound[]
}

export function checkInvariants (input: InvariantInput): Violation[] {
  const out: Violation[] = []
  // 1. A VM runs on exactly one host: never lost, never on two.
  const hostsOf = new Map<string, string[]>()
  for (const p of input.placed) hostsOf.set(p.vm, [...(hostsOf.get(p.vm) ?? []), p.host])
  for (const vm of input.vms) {
    const hosts = hostsOf.get(vm) ?? []
    if (hosts.length !== 1) out.push({ invariant: 1, detail: `${vm} runs on ${hosts.length === 0 ? 'no host' : hosts.join(' and ')}` })
  }
  // 2. No host goes over its capacity.
  const used = new Map<string, { memoryMiB: number, vcpus: number }>()
  for (const p of input.placed) {
    const u = used.get(p.host) ?? { memoryMiB: 0, vcpus: 0 }
    u.memoryMiB += p.memoryMiB; u.vcpus += p.vcpus
    used.set(p.host, u)
  }
  for (const [host, u] of used) {
    const cap = input.capacity.get(host)
    if (cap !== undefined && (u.memoryMiB > cap.memoryMiB || u.vcpus > cap.vcpus)) out.push({ invariant: 2, detail: `${host} holds ${u.memoryMiB} MiB/${u.vcpus} vCPUs of ${cap.memoryMiB}/${cap.vcpus}` })
  }
  // 3. A VM moves at most once per round (an agent acts on one plan per
  //    round by construction; plansActedOn() counts rounds where two planners' plans were).
  const movedIn = new Map<string, number>()
  for (const r of input.rounds) {
    for (const m of r.moves) {
      if (!m.ok) continue
      const key = `${r.round}/${m.vm}`
      movedIn.set(key, (movedIn.get(key) ?? 0) + 1)
    }
  }
  for (const [key, n] of movedIn) if (n > 1) out.push({ invariant: 3, detail: `round ${key.split('/')[0]}: ${key.split('/')[1]} moved ${n} times` })
  // 4. Only a VM's own host migrates it.
  for (const r of input.rounds) {
    for (const m of r.moves) if (m.from !== r.host) out.push({ invariant: 4, detail: `round ${r.round}: ${r.host} migrated ${m.vm}, which ran on ${m.from}` })
  }
  return out
}

/** Rounds in which agents acted on plans of different planners. */
export function splitRounds (rounds: readonly AgentRound[]): number[] {
  const planners = new Map<number, Set<string>>()
  for (const r of rounds) {
    if (!r.acted || r.planner === undefined) continue
    const s = planners.get(r.round) ?? new Set<string>()
    s.add(r.planner)
    planners.set(r.round, s)
  }
  return [...planners].filter(([, s]) => s.size > 1).map(([round]) => round).sort((a, b) => a - b)
}

/** Moves that sent a VM back to a host it left at most `withinRounds` rounds earlier. */
export function pingPongs (rounds: readonly AgentRound[], withinRounds: number): Array<{ vm: string, round: number }> {
  const moves = rounds.flatMap(r => r.moves.filter(m => m.ok).map(m => ({ ...m, round: r.round }))).sort((a, b) => a.round - b.round)
  const left = new Map<string, Array<{ host: string, round: number }>>()
  const out: Array<{ vm: string, round: number }> = []
  for (const m of moves) {
    const history = left.get(m.vm) ?? []
    if (history.some(h => h.host === m.to && m.round - h.round <= withinRounds)) out.push({ vm: m.vm, round: m.round })
    history.push({ host: m.from, round: m.round })
    left.set(m.vm, history)
  }
  return out
}
