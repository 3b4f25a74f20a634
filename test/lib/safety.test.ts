import test from 'ava'
import { evaluate, CostModel } from '../../lib/cost.ts'
import { compile } from '../../lib/instance.ts'
import type { Snapshot } from '../../lib/model.ts'
import { planEvacuation } from '../../lib/planners/evacuate.ts'
import { planLookahead } from '../../lib/planners/lookahead.ts'
import { holdBack, improvesEnough, trimToBudget } from '../../lib/planners/limits.ts'
import { planSafely } from '../../lib/planners/safe-plan.ts'
import { planThesis } from '../../lib/planners/thesis.ts'
import { parseSnapshot } from '../../lib/snapshot.ts'
import { mesh, near, snapshot } from './fixtures.ts'

const LIMITS = { maxInFlight: 5, maxInFlightPerHost: 2, minImprovement: 0 }

/** Two DCs, two hosts each; a1 holds four VMs that talk to B's VMs. */
function cluster (draining: string[] = []): Snapshot {
  return snapshot({
    dcs: ['A', 'B'],
    links: mesh(['A', 'B'], 1000),
    hosts: ['a1', 'a2', 'b1', 'b2'].map(id => ({ id, dc: id[0]!.toUpperCase(), memoryMiB: draining.includes(id) ? 0 : 4096, vcpus: draining.includes(id) ? 0 : 8, ...(draining.includes(id) ? { draining: true } : {}) })),
    vms: [
      { id: 'v1', host: 'a1', memoryMiB: 1024, vcpus: 1 },
      { id: 'v2', host: 'a1', memoryMiB: 2048, vcpus: 1 },
      { id: 'v3', host: 'a1', memoryMiB: 512, vcpus: 1, pinned: true },
      { id: 'v4', host: 'a1', memoryMiB: 512, vcpus: 1 },
      { id: 'w1', host: 'b1', memoryMiB: 1024, vcpus: 1 },
      { id: 'w2', host: 'b2', memoryMiB: 1024, vcpus: 1 }
    ],
    flows: [
      { src: 'v1', dst: 'w1', bps: 100 },
      { src: 'v2', dst: 'w1', bps: 50 },
      { src: 'v4', dst: 'w2', bps: 10 },
      { src: 'v1', dst: 'v4', bps: 5 }
    ]
  })
}

test('a draining host is marked in the snapshot format and survives validation', t => {
  const snap = parseSnapshot(cluster(['a1']))
  t.true(snap.hosts.find(h => h.id === 'a1')!.draining)
  t.is(snap.hosts.find(h => h.id === 'a2')!.draining, undefined)
  t.throws(() => parseSnapshot({ ...cluster(), hosts: [{ id: 'a1', dc: 'A', memoryMiB: 1, vcpus: 1, draining: 'yes' }] }), { message: /hosts\[0\]\.draining: expected true or false, found "yes"/ })
})

test('evacuation moves every movable VM off a draining host, biggest first, to the cheapest host with room, never a pinned one', t => {
  const inst = compile(cluster(['a1']))
  const plan = planEvacuation(inst)!
  t.is(plan.planner, 'evacuate')
  t.deepEqual(plan.moves.map(m => m.vm), ['v2', 'v1', 'v4'], 'biggest first; pinned v3 stays')
  t.true(plan.moves.every(m => m.from === 'a1' && m.to !== 'a1'))
  // v1 and v2 talk to B: evacuating them to B costs least (it lowers the cost).
  t.is(plan.moves.find(m => m.vm === 'v1')!.toDc, 'B')
  const hostOf = Int32Array.from(inst.vmHost)
  for (const m of plan.moves) hostOf[inst.vmIds.indexOf(m.vm)] = inst.hostIds.indexOf(m.to)
  t.true(near(evaluate(new CostModel(inst), hostOf).total, plan.finalCost))
  t.is(planEvacuation(compile(cluster())), undefined, 'no draining host, no evacuation')
})

test('evacuation at equal cost stays in the VM\'s own DC: moves free and no traffic known, a host of another DC listed first is not taken', t => {
  // b1 is drained; its DC's other host b2 comes after a1 and a2 in the list, all with the same room.
  const snap = snapshot({
    dcs: ['A', 'B'],
    links: mesh(['A', 'B'], 1000),
    hosts: [{ id: 'a1', dc: 'A' }, { id: 'a2', dc: 'A' }, { id: 'b1', dc: 'B', draining: true }, { id: 'b2', dc: 'B' }].map(h => ({ memoryMiB: 4096, vcpus: 8, ...h })),
    vms: [{ id: 'v1', host: 'b1', memoryMiB: 1024, vcpus: 1 }, { id: 'v2', host: 'b1', memoryMiB: 1024, vcpus: 1 }],
    flows: []
  })
  const plan = planEvacuation(compile(snap), { weights: { migration: 0 } })!
  t.deepEqual(plan.moves.map(m => `${m.vm}->${m.to}`), ['v1->b2', 'v2->b2'])
  // Where the cost tells hosts apart, it still decides: v1 talking to a VM on a2 goes to A.
  const talking = planEvacuation(compile({ ...snap, vms: [...snap.vms, { id: 'w', host: 'a2', memoryMiB: 512, vcpus: 1, addresses: [] }], flows: [{ src: 'v1', dst: 'w', bps: 100 }] }), { weights: { migration: 0 } })!
  t.is(talking.moves.find(m => m.vm === 'v1')!.toDc, 'A')
})

test('evacuation honours the move limits per plan and per host', t => {
  const plan = planEvacuation(compile(cluster(['a1'])), { maxMovesPerHost: 2 })!
  t.is(plan.moves.length, 2, 'the draining host takes part in at most 2 moves')
  t.is(plan.stopped, 'move-limit')
  t.is(planEvacuation(compile(cluster(['a1'])), { maxMoves: 1 })!.moves.length, 1)
})

test('holdBack pins VMs on the move, cooling VMs and every VM of a host at its outbound cap; the budget is what the cluster cap leaves', t => {
  const held = holdBack(cluster(), [{ vm: 'w1', from: 'b1' }, { vm: 'v9', from: 'a1' }, { vm: 'v8', from: 'a1' }], ['w2'], { ...LIMITS, maxInFlight: 4 })
  const pinned = held.snapshot.vms.filter(v => v.pinned === true).map(v => v.id).sort()
  t.deepEqual(pinned, ['v1', 'v2', 'v3', 'v4', 'w1', 'w2'], 'a1 has 2 outbound (its cap): all its VMs stay; w1 is moving, w2 cooling')
  t.is(held.budget, 1)
  t.is(held.hostBudget.get('a1'), 0)
  t.is(held.hostBudget.get('b2'), 2)
  t.false(cluster().vms.some(v => v.id === 'v1' && v.pinned === true), 'the input is not changed')
})

test('trimToBudget keeps moves in order within each source host budget and drops the moves that needed a dropped one', t => {
  const inst = compile(snapshot({
    dcs: ['A', 'B'],
    links: mesh(['A', 'B'], 1000),
    hosts: [{ id: 'a1', dc: 'A', memoryMiB: 4096, vcpus: 8 }, { id: 'b1', dc: 'B', memoryMiB: 2048, vcpus: 8 }],
    vms: [{ id: 'x', host: 'b1', memoryMiB: 2048, vcpus: 1 }, { id: 'y', host: 'a1', memoryMiB: 2048, vcpus: 1 }],
    flows: []
  }))
  const plan = { planner: 'p', initialCost: 0, finalCost: 0, stopped: 'converged' as const, moves: [
    { vm: 'x', from: 'b1', to: 'a1', fromDc: 'B', toDc: 'A', cost: 0, gain: 0 },
    { vm: 'y', from: 'a1', to: 'b1', fromDc: 'A', toDc: 'B', cost: 0, gain: 0 }
  ] }
  t.is(trimToBudget(inst, plan, new Map([['a1', 1], ['b1', 1]])), plan, 'within budget: unchanged')
  const trimmed = trimToBudget(inst, plan, new Map([['a1', 1], ['b1', 0]]))
  t.deepEqual(trimmed.moves.map(m => m.vm), [], 'x may not leave b1, so y finds no room there')
  t.is(trimmed.stopped, 'move-limit')
})

test('a plan runs only if it cuts the cost by the minimum fraction', t => {
  const base = { planner: 'p', stopped: 'converged' as const, moves: [{ vm: 'v', from: 'a', to: 'b', fromDc: 'A', toDc: 'B', cost: 0, gain: 0 }] }
  t.true(improvesEnough({ ...base, initialCost: 1, finalCost: 0.98 }, 0.01))
  t.false(improvesEnough({ ...base, initialCost: 1, finalCost: 0.995 }, 0.01))
  t.false(improvesEnough({ ...base, initialCost: 1, finalCost: 1.1 }, 0))
  t.false(improvesEnough({ ...base, moves: [], initialCost: 1, finalCost: 0.5 }, 0))
})

test('planSafely: evacuation first, then the planner within the budget, held back below the minimum improvement', t => {
  for (const planner of [planLookahead, planThesis]) {
    const evac = planSafely(cluster(['a1']), { planner, config: {}, limits: LIMITS, onTheMove: [], cooling: [] })
    t.is(evac.verdict, 'evacuate')
    t.deepEqual(evac.plan.moves.map(m => m.vm), ['v2', 'v1'], 'two outbound per host at once')
    const run = planSafely(cluster(), { planner, config: {}, limits: LIMITS, onTheMove: [], cooling: [] })
    t.is(run.verdict, 'run')
    t.true(run.plan.moves.length > 0 && run.plan.moves.every(m => m.vm !== 'v3'))
    const cooled = planSafely(cluster(), { planner, config: {}, limits: LIMITS, onTheMove: [], cooling: ['v1', 'v2', 'v4'] })
    t.true(cooled.plan.moves.every(m => !['v1', 'v2', 'v4'].includes(m.vm)), 'cooling VMs stay')
    const full = planSafely(cluster(), { planner, config: {}, limits: { ...LIMITS, maxInFlight: 1 }, onTheMove: [{ vm: 'w2', from: 'b2' }], cooling: [] })
    t.deepEqual([full.verdict, full.plan.moves.length], ['in-flight-limit', 0])
    // With the others cooling, only v4 can move: it saves a few percent, less than half.
    const picky = planSafely(cluster(), { planner, config: {}, limits: { ...LIMITS, minImprovement: 0.5 }, onTheMove: [], cooling: ['v1', 'v2', 'w1', 'w2'] })
    t.deepEqual([picky.verdict, picky.plan.moves.length], ['below-min-improvement', 0])
    t.is(picky.plan.finalCost, picky.plan.initialCost)
  }
})
