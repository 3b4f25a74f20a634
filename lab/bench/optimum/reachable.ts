/**
 * The best placement any executable plan can reach: every placement that
 * single live migrations can lead to from the start (any VM but a pinned
 * one, to any host with room, as often as it likes: detours and moves
 * aside included), never over a host's memory or vCPUs, enumerated
 * breadth first, and the cheapest of them. Where the enumeration is
 * complete this is a proof: no plan of single moves ends lower, whatever
 * the integer program's optimum (which may need VMs to trade places
 * between full hosts at once). Where it is capped, the cheapest found so
 * far is only an upper bound on that best.
 *
 * Only the hosts a VM can ever be on are enumerated (hostDomains): on
 * bench:optimum's tight hosts the largest VMs can never move at all. A
 * placement is coded as one number, each movable VM's host as a digit
 * (its index among the hosts it can be on), while the product of those
 * counts stays below 2^53; a move changes the code by (to - from) times
 * the VM's place value. The placements seen are a bitmap over every code
 * while there are at most 2^33 codes (1 GiB), else a Set.
 */
import { type CostModel, evaluate } from '../../../lib/cost.ts'
import type { Instance } from '../../../lib/instance.ts'
import { canonicalizer, equalHosts } from './equal-hosts.ts'

export interface Reachable {
  /** Every reachable placement was seen (a proof), or the enumeration stopped at the cap. */
  complete: boolean
  /** Placements seen (one of each family that differs only by exchanging equal hosts: equal-hosts.ts). */
  states: number
  /** VMs that can never move (pinned, or no room for them anywhere else, ever). */
  fixed: number
  /** Hosts in sets of exchangeable ones. */
  exchangeable: number
  /** The cheapest of them, and where (up to exchanging equal hosts). */
  best: number
  bestHostOf: Int32Array
}

/** Codes up to this many get a bitmap (1 GiB); more fall back to Sets. */
const BITMAP_CODES = 2 ** 33
/** V8 refuses a Set of more entries than this. */
const SET_ENTRIES = 2 ** 24 - 1
/** Sets the codes are spread over, for more entries than one Set takes; filled to 3/4 on average, so none reaches SET_ENTRIES. */
const SHARDS = 16
const SETS_ENTRIES = SHARDS * SET_ENTRIES * 3 / 4
/** Codes are spread by their remainder by this prime: their low digits alone are one VM's host, far from uniform. */
const SPREAD = 1_000_003

/**
 * The hosts each VM can ever be on. A move needs room on its target, and
 * no host ever has more room than all hosts' spare room together, so a VM
 * larger than that never moves (nor does a pinned one). A VM that never
 * moves shrinks its host's room for the others for good, and a VM with no
 * room on any host but its own never moves either: repeated until nothing
 * changes. What is dropped is only placements no plan reaches.
 */
export function hostDomains (inst: Instance): number[][] {
  const { nVm, nHost, hostMemory, hostVcpus, vmMemory, vmVcpus, vmPinned, vmHost } = inst
  const spareMem = hostMemory.reduce((a, b) => a + b, 0) - vmMemory.reduce((a, b) => a + b, 0)
  const spareCpu = hostVcpus.reduce((a, b) => a + b, 0) - vmVcpus.reduce((a, b) => a + b, 0)
  const fixed = Array.from({ length: nVm }, (_, v) => vmPinned[v] === 1 || vmMemory[v]! > spareMem || vmVcpus[v]! > spareCpu)
  for (;;) {
    const roomMem = Float64Array.from(hostMemory); const roomCpu = Float64Array.from(hostVcpus)
    for (let v = 0; v < nVm; v++) {
      if (fixed[v]) { roomMem[vmHost[v]!]! -= vmMemory[v]!; roomCpu[vmHost[v]!]! -= vmVcpus[v]! }
    }
    const domains = Array.from({ length: nVm }, (_, v) => fixed[v]
      ? [vmHost[v]!]
      : Array.from({ length: nHost }, (_, h) => h).filter(h => h === vmHost[v] || (roomMem[h]! >= vmMemory[v]! && roomCpu[h]! >= vmVcpus[v]!)))
    const more = domains.map((d, v) => !fixed[v] && d.length === 1 ? v : -1).filter(v => v >= 0)
    if (more.length === 0) return domains
    for (const v of more) fixed[v] = true
  }
}

/** Undefined when the placements do not fit one number (2^53 codes or more) or the instance has placement rules (not modelled here). */
export function bestReachable (model: CostModel, maxStates: number): Reachable | undefined {
  const inst = model.instance
  const { nVm, nHost, hostMemory, hostVcpus, vmMemory, vmVcpus, vmHost } = inst
  if (inst.rules !== undefined) return undefined
  const domains = hostDomains(inst)
  const movable = domains.flatMap((d, v) => d.length > 1 ? [v] : [])
  const place: number[] = []
  let codes = 1
  for (const v of movable) { place.push(codes); codes *= domains[v]!.length }
  if (codes >= 2 ** 53) return undefined
  // digit[k][h]: the index of host h among movable VM k's hosts.
  const digit = movable.map(v => { const d = new Int32Array(nHost).fill(-1); domains[v]!.forEach((h, i) => { d[h] = i }); return d })
  const hostOf = Int32Array.from(vmHost)
  const encode = (of: Int32Array): number => movable.reduce((c, v, k) => c + digit[k]![of[v]!]! * place[k]!, 0)
  const decode = (code: number): void => {
    for (const v of movable) { const n = domains[v]!.length; hostOf[v] = domains[v]![code % n]!; code = Math.floor(code / n) }
  }
  const sets = movable.length < 53 ? equalHosts(inst, domains) : []
  const canonicalize = canonicalizer(sets, movable, nHost)
  const moved = new Int32Array(nVm)
  // The code of hostOf with v moved to h: one of its family where hosts are exchangeable.
  const codeAfter = (code: number, k: number, h: number): number => {
    const v = movable[k]!
    if (sets.length === 0) return code + (digit[k]![h]! - digit[k]![hostOf[v]!]!) * place[k]!
    const from = hostOf[v]!
    hostOf[v] = h
    canonicalize(hostOf, moved)
    hostOf[v] = from
    return encode(moved)
  }
  const seen: Seen = codes <= BITMAP_CODES ? new Bitmap(codes) : new Sets()
  const cap = seen instanceof Sets ? Math.min(maxStates, SETS_ENTRIES) : maxStates
  const queue = new Queue()
  canonicalize(Int32Array.from(vmHost), hostOf)
  const start = encode(hostOf)
  seen.add(start); queue.push(start)
  const mem = new Float64Array(nHost); const cpu = new Float64Array(nHost)
  const costOf = dcCosts(model, movable, hostOf)
  let best = Infinity; let bestCode = start
  for (let i = 0; i < queue.length; i++) {
    const code = queue.at(i)
    decode(code)
    const cost = costOf()
    if (cost < best) { best = cost; bestCode = code }
    if (queue.length >= cap) continue
    mem.fill(0); cpu.fill(0)
    hostOf.forEach((h, v) => { mem[h]! += vmMemory[v]!; cpu[h]! += vmVcpus[v]! })
    movable.forEach((v, k) => {
      const from = hostOf[v]!
      for (const h of domains[v]!) {
        if (h === from || mem[h]! + vmMemory[v]! > hostMemory[h]! || cpu[h]! + vmVcpus[v]! > hostVcpus[h]!) continue
        const next = codeAfter(code, k, h)
        if (!seen.has(next) && queue.length < cap) { seen.add(next); queue.push(next) }
      }
    })
  }
  // Complete only if no placement was left out for the cap: then every one seen was expanded.
  const complete = queue.length < cap
  decode(bestCode)
  return { complete, states: queue.length, fixed: nVm - movable.length, exchangeable: sets.reduce((n, s) => n + s.length, 0), best, bestHostOf: Int32Array.from(hostOf) }
}

/**
 * The cost of hostOf, remembered by the movable VMs' DCs: the cost depends
 * on DCs only, and many placements share them (the hosts inside a DC
 * differ). Most of the enumeration's time is otherwise spent pricing.
 */
function dcCosts (model: CostModel, movable: number[], hostOf: Int32Array): () => number {
  const { nDc, hostDc } = model.instance
  const known = new Map<number, number>()
  const keyed = movable.length * Math.log2(nDc) < 53
  return () => {
    if (!keyed) return evaluate(model, hostOf).total
    const key = movable.reduce((k, v) => k * nDc + hostDc[hostOf[v]!]!, 0)
    let cost = known.get(key)
    if (cost === undefined) {
      cost = evaluate(model, hostOf).total
      if (known.size < SET_ENTRIES) known.set(key, cost)
    }
    return cost
  }
}

interface Seen { has: (code: number) => boolean, add: (code: number) => unknown }

/** Codes spread over SHARDS Sets by their value. */
class Sets implements Seen {
  private readonly shards = Array.from({ length: SHARDS }, () => new Set<number>())
  has (code: number): boolean { return this.shards[(code % SPREAD) % SHARDS]!.has(code) }
  add (code: number): void { this.shards[(code % SPREAD) % SHARDS]!.add(code) }
}

/** One bit per code. */
class Bitmap implements Seen {
  private readonly bits: Uint8Array
  constructor (codes: number) { this.bits = new Uint8Array(Math.ceil(codes / 8)) }
  has (code: number): boolean { return (this.bits[Math.floor(code / 8)]! & (1 << (code % 8))) !== 0 }
  add (code: number): void { this.bits[Math.floor(code / 8)]! |= 1 << (code % 8) }
}

/** Codes in the order seen, in a growing typed array (tens of millions of them: a plain array of that many numbers is larger and slower). */
class Queue {
  private items = new Float64Array(1 << 16)
  length = 0
  push (code: number): void {
    if (this.length === this.items.length) { const more = new Float64Array(this.items.length * 2); more.set(this.items); this.items = more }
    this.items[this.length++] = code
  }

  at (i: number): number { return this.items[i]! }
}
