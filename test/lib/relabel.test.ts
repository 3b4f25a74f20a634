import test from 'ava'
import { CostModel } from '../../lib/cost.ts'
import { compile } from '../../lib/instance.ts'
import type { Flow } from '../../lib/model.ts'
import { relabelTowardHome } from '../../lib/planners/relabel.ts'
import { mesh, snapshot } from './fixtures.ts'

/** a1, a2 live in A; b1, b2 in B; each pair talks. `extra` flows and pins change what a relabelling costs. */
function pairs (extra: Flow[] = [], pinned: string[] = []): ReturnType<typeof compile> {
  return compile(snapshot({
    dcs: ['A', 'B'],
    links: mesh(['A', 'B'], 1e6),
    hosts: [{ id: 'h1', dc: 'A', memoryMiB: 4096, vcpus: 4 }, { id: 'h2', dc: 'B', memoryMiB: 4096, vcpus: 4 }],
    vms: [['a1', 'h1'], ['a2', 'h1'], ['b1', 'h2'], ['b2', 'h2']].map(([id, host]) => ({ id: id!, host: host!, memoryMiB: 1024, vcpus: 1, pinned: pinned.includes(id!) })),
    flows: [{ src: 'a1', dst: 'a2', bps: 1000 }, { src: 'b1', dst: 'b2', bps: 1000 }, ...extra],
    prefixes: [{ id: 'clients', prefix: '2001:db8::/32', dc: 'A' }]
  }))
}
/** The pairs exchanged: a's in B, b's in A (what a DC-by-DC search may well return; it costs the same). */
const swapped = Int32Array.from([1, 1, 0, 0])

test('a placement found DC by DC is relabelled to keep VMs at home when that costs no more', t => {
  const inst = pairs()
  t.deepEqual([...relabelTowardHome(new CostModel(inst), swapped)], [...inst.vmHost])
})

test('the labelling stays when exchanging DCs would cost more, or would move a pinned VM', t => {
  // b1 serves clients in A: the swapped placement is the cheaper one.
  const served = pairs([{ src: 'b1', dst: 'clients', bps: 500 }])
  t.deepEqual([...relabelTowardHome(new CostModel(served), swapped)], [...swapped])
  // A DC holding a pinned VM in the target keeps its label (exchanging it would move the VM).
  const pinned = pairs([], ['b1'])
  t.deepEqual([...relabelTowardHome(new CostModel(pinned), swapped)], [...swapped])
})
