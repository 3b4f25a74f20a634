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
