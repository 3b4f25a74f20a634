import test from 'ava'
import { CostModel, evaluate } from '../../lib/cost.ts'
import { compile } from '../../lib/instance.ts'
import { Placement } from '../../lib/placement.ts'
import { generate } from '../../lib/scenario.ts'
import { mesh, near, snapshot, workedExample } from './fixtures.ts'

test('the thesis cost is the mean loading factor over all links (worked example: 120 bit/s over 6 links of 100)', t => {
  const inst = compile(workedExample())
  const c = evaluate(new CostModel(inst), inst.vmHost)
  // A->B carries v1->v2 (60) and v1->v3 (30); B->A v2->v1 (20); B->C v3->v4 (10).
  t.deepEqual([...c.linkLoad], [90, 0, 20, 10, 0, 0]) // links: A>B A>C B>A B>C C>A C>B
  t.true(near(c.bandwidth, 1.2 / 6))
  t.true(near(c.total, 0.2), String(c.total))
})

test('traffic without a direct link follows the fewest-hop route and loads every link on it', t => {
  // A line A - B - C: A->C traffic crosses A->B and B->C.
  const snap = snapshot({
    dcs: ['A', 'B', 'C'],
    links: [
      { from: 'A', to: 'B', capacityBps: 100 }, { from: 'B', to: 'A', capacityBps: 100 },
      { from: 'B', to: 'C', capacityBps: 50 }, { from: 'C', to: 'B', capacityBps: 50 }
    ],
    hosts: [{ id: 'a', dc: 'A', memoryMiB: 10, vcpus: 1 }, { id: 'c', dc: 'C', memoryMiB: 10, vcpus: 1 }],
    vms: [{ id: 'x', host: 'a', memoryMiB: 1, vcpus: 1 }, { id: 'y', host: 'c', memoryMiB: 1, vcpus: 1 }],
    flows: [{ src: 'x', dst: 'y', bps: 25 }]
  })
  const c = evaluate(new CostModel(compile(snap)), compile(snap).vmHost)
  t.deepEqual([...c.linkLoad], [25, 0, 25, 0])
  t.true(near(c.total, (25 / 100 + 25 / 50) / 4))
})

test('weighted terms: latency, price per GB and DC load, each computed by hand', t => {
  const snap = snapshot({
    dcs: ['A', 'B'],
    links: mesh(['A', 'B'], 1e9, { latencyMs: 40, pricePerGB: 0.02 }),
    hosts: [{ id: 'a', dc: 'A', memoryMiB: 4096, vcpus: 4 }, { id: 'b', dc: 'B', memoryMiB: 4096, vcpus: 4 }],
    vms: [
      { id: 'x', host: 'a', memoryMiB: 2048, vcpus: 1 },
      { id: 'y', host: 'b', memoryMiB: 1024, vcpus: 1 },
      { id: 'z', host: 'a', memoryMiB: 1024, vcpus: 1 }
    ],
    flows: [{ src: 'x', dst: 'y', bps: 4e8 }, { src: 'x', dst: 'z', bps: 1e8 }]
  })
  const inst = compile(snap)
  const c = evaluate(new CostModel(inst, { weights: { bandwidth: 1, latency: 2, price: 3, dcLoad: 4 } }), inst.vmHost)
  const bandwidth = (0.4 + 0) / 2
  const latency = 4e8 * 0.040 / 5e8 // 80% of the traffic sees 40 ms
  const price = 4e8 * 3600 / 8e9 * 0.02 // 180 GB per hour at 0.02
  const utilA = 3072 / 4096; const utilB = 1024 / 4096
  const mean = (utilA + utilB) / 2
  const dcLoad = ((utilA - mean) ** 2 + (utilB - mean) ** 2) / 2
  t.true(near(c.bandwidth, bandwidth))
  t.true(Math.abs(c.latency - latency) < 1e-12)
  t.true(Math.abs(c.price - price) < 1e-9)
  t.true(Math.abs(c.dcLoad - dcLoad) < 1e-12)
  t.true(Math.abs(c.total - (bandwidth + 2 * latency + 3 * price + 4 * dcLoad)) < 1e-9)
})

test('the migration term counts a moved VM\'s memory copy like traffic amortised over an hour', t => {
  const snap = snapshot({
    dcs: ['A', 'B'],
    links: mesh(['A', 'B'], 1e6),
    hosts: [{ id: 'a', dc: 'A', memoryMiB: 8192, vcpus: 4 }, { id: 'b', dc: 'B', memoryMiB: 8192, vcpus: 4 }],
    vms: [{ id: 'x', host: 'a', memoryMiB: 900, vcpus: 1 }],
    flows: []
  })
  const inst = compile(snap)
  const model = new CostModel(inst, { weights: { migration: 1 } })
  const moved = evaluate(model, Int32Array.from([1]))
  const bps = 900 * 8 * 1024 * 1024 / 3600
  t.true(Math.abs(moved.migration - bps / 1e6 / 2) < 1e-12)
  t.is(evaluate(model, inst.vmHost).migration, 0)
})

test('incremental moves keep the running cost equal to a full evaluation', t => {
  const inst = compile(generate('web', { vms: 300, dcs: 5, seed: 7 }))
  const model = new CostModel(inst, { weights: { bandwidth: 1, latency: 0.5, price: 0.1, dcLoad: 2, migration: 1 } })
  const state = new Placement(model)
  for (let i = 0; i < 200; i++) {
    const vm = (i * 37) % inst.nVm
    const host = (i * 11) % inst.nHost
    state.apply(vm, host)
  }
  const full = evaluate(model, state.hostOf)
  t.true(Math.abs(state.cost - full.total) < 1e-9 * Math.max(1, full.total), `${state.cost} vs ${full.total}`)
  full.linkLoad.forEach((load, l) => t.true(Math.abs(load - state.linkLoad[l]!) < 1e-6 * Math.max(1, load)))
})

test('a placement made without link loads keeps the same cost move for move, and refuses to hand out loads it does not keep', t => {
  const inst = compile(generate('thesis', { vms: 200, dcs: 4, seed: 3 }))
  const model = new CostModel(inst)
  const kept = new Placement(model)
  const bare = new Placement(model, undefined, false)
  for (let i = 0; i < 150; i++) {
    const vm = (i * 29) % inst.nVm
    const host = (i * 7) % inst.nHost
    kept.apply(vm, host)
    bare.apply(vm, host)
    t.is(bare.cost, kept.cost)
  }
  t.throws(() => bare.linkLoad, { message: /does not keep link loads/ })
  t.true(kept.linkLoad.length > 0)
})
