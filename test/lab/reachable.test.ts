/**
 * bench:optimum's proof that no plan of single moves gets closer
 * (lab/bench/optimum/reachable.ts): every placement single moves lead to,
 * detours included, and the cheapest of them.
 */
import test from 'ava'
import { CostModel, evaluate } from '../../lib/cost.ts'
import { compile } from '../../lib/instance.ts'
import type { Host } from '../../lib/model.ts'
import { bestReachable } from '../../lab/bench/optimum/reachable.ts'
import { benchCase } from '../../lab/bench/optimum/instances.ts'
import { mesh, snapshot } from '../lib/fixtures.ts'

/** x on a1 talks to p in B, y on b1 talks to q in A: trading x and y places cost nothing, but both hosts are full. */
function traders (extra: Host[]): ReturnType<typeof compile> {
  return compile(snapshot({
    dcs: ['A', 'B', 'C'],
    links: mesh(['A', 'B', 'C'], 100),
    hosts: [
      { id: 'a1', dc: 'A', memoryMiB: 2048, vcpus: 4 }, { id: 'a2', dc: 'A', memoryMiB: 1024, vcpus: 4 },
      { id: 'b1', dc: 'B', memoryMiB: 2048, vcpus: 4 }, { id: 'b2', dc: 'B', memoryMiB: 1024, vcpus: 4 },
      ...extra
    ],
    vms: [
      { id: 'x', host: 'a1', memoryMiB: 2048, vcpus: 1 }, { id: 'y', host: 'b1', memoryMiB: 2048, vcpus: 1 },
      { id: 'p', host: 'b2', memoryMiB: 1024, vcpus: 1, pinned: true }, { id: 'q', host: 'a2', memoryMiB: 1024, vcpus: 1, pinned: true }
    ],
    flows: [{ src: 'x', dst: 'p', bps: 10 }, { src: 'y', dst: 'q', bps: 10 }]
  }))
}

test('full hosts that would have to trade VMs at once: only the start is reachable, a proof that nothing better runs', t => {
  const inst = traders([])
  const model = new CostModel(inst)
  const r = bestReachable(model, 1000)!
  t.true(r.complete)
  t.is(r.states, 1)
  t.is(r.best, evaluate(model, inst.vmHost).total)
  t.true(r.best > 0)
})

test('with room in a third DC the trade runs as a detour (a VM parked there, then on to its place), and its cost is reached', t => {
  const inst = traders([{ id: 'c1', dc: 'C', memoryMiB: 2048, vcpus: 4 }])
  const r = bestReachable(new CostModel(inst), 1000)!
  t.true(r.complete)
  t.true(r.states > 1)
  t.is(r.best, 0)
  t.is(inst.hostIds[r.bestHostOf[inst.vmIds.indexOf('x')]!], 'b1')
  t.is(inst.hostIds[r.bestHostOf[inst.vmIds.indexOf('y')]!], 'a1')
  // Capped below what there is to see: not complete, and said so.
  const capped = bestReachable(new CostModel(inst), 2)!
  t.false(capped.complete)
  t.is(capped.states, 2)
})

/** Every placement single moves lead to, with nothing left out ahead: the enumeration before hostDomains, as the check on it. */
function plainReach (model: CostModel): { states: number, families: number, best: number } {
  const { nVm, nHost, hostMemory, hostVcpus, vmMemory, vmVcpus, vmPinned, vmHost, hostDc } = model.instance
  // A family: the placement with the contents of same-sized hosts in a DC taken as a set.
  const family = (hostOf: Int32Array): string => {
    const contents = Array.from({ length: nHost }, (_, h) => [...hostOf.keys()].filter(v => hostOf[v] === h).join('+'))
    const groups = new Map<string, string[]>()
    contents.forEach((c, h) => { const g = `${hostDc[h]!}/${hostMemory[h]!}/${hostVcpus[h]!}`; groups.set(g, [...(groups.get(g) ?? []), c]) })
    return [...groups.entries()].map(([g, cs]) => `${g}:${cs.sort().join('|')}`).join(' ')
  }
  const key = (hostOf: Int32Array): string => hostOf.join(',')
  const seen = new Set([key(vmHost)]); const queue = [Int32Array.from(vmHost)]
  let best = Infinity
  for (let i = 0; i < queue.length; i++) {
    const hostOf = queue[i]!
    best = Math.min(best, evaluate(model, hostOf).total)
    const mem = new Float64Array(nHost); const cpu = new Float64Array(nHost)
    hostOf.forEach((h, v) => { mem[h]! += vmMemory[v]!; cpu[h]! += vmVcpus[v]! })
    for (let v = 0; v < nVm; v++) {
      for (let h = 0; h < nHost; h++) {
        if (vmPinned[v] === 1 || h === hostOf[v] || mem[h]! + vmMemory[v]! > hostMemory[h]! || cpu[h]! + vmVcpus[v]! > hostVcpus[h]!) continue
        const next = Int32Array.from(hostOf); next[v] = h
        if (!seen.has(key(next))) { seen.add(key(next)); queue.push(next) }
      }
    }
  }
  return { states: queue.length, families: new Set(queue.map(family)).size, best }
}

test('leaving out hosts a VM can never be on, and visiting one of each family of placements that differ only by exchanging equal hosts, finds the plain enumeration\'s best on 12 tight bench instances', t => {
  let fixed = 0; let fewer = 0
  for (let seed = 1; seed <= 12; seed++) {
    const model = new CostModel(benchCase(seed % 2 === 0 ? 'clustered' : 'thesis', 9, 2, seed, 1.1).inst)
    const r = bestReachable(model, 1e6)!
    const plain = plainReach(model)
    t.true(r.complete)
    t.is(r.best, plain.best, `seed ${seed}`)
    t.is(evaluate(model, r.bestHostOf).total, r.best)
    t.is(r.states, plain.families, `seed ${seed}: one placement of each family`)
    if (r.states < plain.states) fewer++
    fixed += r.fixed
  }
  // The check means something only where VMs were left in place and hosts exchanged: bench's tight, equal hosts do both.
  t.true(fixed > 0)
  t.true(fewer > 0)
})
