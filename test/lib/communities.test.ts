import test from 'ava'
import { communities, groupMembers, superGroups } from '../../lib/communities.ts'
import { compile } from '../../lib/instance.ts'
import type { Flow } from '../../lib/model.ts'
import { mesh, snapshot } from './fixtures.ts'

/** Four applications of three VMs (1 GiB each) that talk hard inside; a and b talk a little, c and d too. */
function fourApps (): ReturnType<typeof compile> {
  const apps = ['a', 'b', 'c', 'd']
  const vms = apps.flatMap(app => [0, 1, 2].map(i => ({ id: `${app}${i}`, host: 'h1', memoryMiB: 1024, vcpus: 1 })))
  const flows: Flow[] = []
  for (const app of apps) for (const [x, y] of [[0, 1], [1, 2], [2, 0]] as const) flows.push({ src: `${app}${x}`, dst: `${app}${y}`, bps: 1000 })
  flows.push({ src: 'a0', dst: 'b0', bps: 10 }, { src: 'c1', dst: 'd2', bps: 10 })
  return compile(snapshot({ dcs: ['A', 'B'], links: mesh(['A', 'B'], 1e6), hosts: [{ id: 'h1', dc: 'A', memoryMiB: 16384, vcpus: 16 }, { id: 'h2', dc: 'B', memoryMiB: 16384, vcpus: 16 }], vms, flows }))
}

const named = (inst: ReturnType<typeof compile>, groups: number[][]): string[] => groups.map(g => g.map(v => inst.vmIds[v]!).sort().join(',')).sort()

test('applications are found from their traffic, and applications that talk to each other are grouped again, up to a memory cap', t => {
  const inst = fourApps()
  const label = communities(inst)
  t.deepEqual(named(inst, groupMembers(label)), ['a0,a1,a2', 'b0,b1,b2', 'c0,c1,c2', 'd0,d1,d2'])
  t.deepEqual(named(inst, groupMembers(superGroups(inst, label, 6 * 1024))), ['a0,a1,a2,b0,b1,b2', 'c0,c1,c2,d0,d1,d2'])
  // A cap below two applications' memory keeps them apart.
  t.deepEqual(named(inst, groupMembers(superGroups(inst, label, 5 * 1024))), ['a0,a1,a2', 'b0,b1,b2', 'c0,c1,c2', 'd0,d1,d2'])
})
