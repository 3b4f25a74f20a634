import test from 'ava'
import { checkPlanNow } from '../../lib/plan-check.ts'
import { mesh, snapshot } from './fixtures.ts'

/** a on h1 (DC A), b on h2 (DC B, room for one more 1 GiB VM), c on h3 (DC B); a talks to b. */
const now = snapshot({
  dcs: ['A', 'B'],
  links: mesh(['A', 'B'], 1e6),
  hosts: [{ id: 'h1', dc: 'A', memoryMiB: 2048, vcpus: 2 }, { id: 'h2', dc: 'B', memoryMiB: 2048, vcpus: 2 }, { id: 'h3', dc: 'B', memoryMiB: 1024, vcpus: 1 }],
  vms: [{ id: 'a', host: 'h1', memoryMiB: 1024, vcpus: 1 }, { id: 'b', host: 'h2', memoryMiB: 1024, vcpus: 1 }, { id: 'c', host: 'h3', memoryMiB: 1024, vcpus: 1 }],
  flows: [{ src: 'a', dst: 'b', bps: 1000 }]
})

test('a plan still fits the cluster: every VM where it assumed, every move with room in order, a lower cost; each failure says why', t => {
  t.like(checkPlanNow(now, [{ vm: 'a', from: 'h1', to: 'h2' }]), { ok: true, costAfter: 0 })
  t.like(checkPlanNow(now, [{ vm: 'a', from: 'h1', to: 'h3' }]), { ok: false, reason: 'h3 has no room for a now' })
  t.like(checkPlanNow(now, [{ vm: 'c', from: 'h3', to: 'h2' }, { vm: 'a', from: 'h1', to: 'h2' }]), { ok: false, reason: 'h2 has no room for a now' }, 'room is checked in order')
  t.like(checkPlanNow(now, [{ vm: 'a', from: 'h1', to: 'h9' }]), { ok: false, reason: 'h9 is not live now' })
  t.like(checkPlanNow(now, [{ vm: 'z', from: 'h1', to: 'h2' }]), { ok: false, reason: 'z is not in the cluster\'s view now' })
  t.like(checkPlanNow(now, [{ vm: 'c', from: 'h3', to: 'h1' }]), { ok: false, reason: 'it no longer lowers the cost: 0.000500 now, 0.000500 after its moves' }, 'c talks to nobody')
  t.like(checkPlanNow(now, [{ vm: 'c', from: 'h3', to: 'h1' }], { gain: false }), { ok: true }, 'without the gain check only the facts count')
})
