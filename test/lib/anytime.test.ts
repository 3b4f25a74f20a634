/**
 * Plans safe to stop anywhere (lib/planners/anytime.ts): agents carry out a
 * few moves a round, so every prefix of a plan is a placement the WAN sees.
 * Costs are checked by a full evaluation after each move, not by the costs
 * the plan states.
 */
import test from 'ava'
import { CostModel, evaluate } from '../../lib/cost.ts'
import { compile, type Instance } from '../../lib/instance.ts'
import type { Plan } from '../../lib/model.ts'
import { anytimeOrder, stepEnds, stopsSafely } from '../../lib/planners/anytime.ts'
import type { PlannerConfig } from '../../lib/planners/config.ts'
import { planBestFirst } from '../../lib/planners/best-first.ts'
import { planLookahead } from '../../lib/planners/lookahead.ts'
import { generate, SCENARIO_KINDS } from '../../lib/scenario.ts'
import { mesh, snapshot } from './fixtures.ts'

/** Every prefix's cost by full evaluation; fails the test on a move that cannot run in order. */
function prefixCosts (t: { true: (v: boolean, m?: string) => void }, inst: Instance, model: CostModel, plan: Plan): number[] {
  const hostOf = Int32Array.from(inst.vmHost)
  const hostIndex = new Map(inst.hostIds.map((id, i) => [id, i]))
  const vmIndex = new Map(inst.vmIds.map((id, i) => [id, i]))
  const mem = new Float64Array(inst.nHost)
  hostOf.forEach((h, v) => { mem[h]! += inst.vmMemory[v]! })
  const costs: number[] = []
  for (const m of plan.moves) {
    const v = vmIndex.get(m.vm)!; const to = hostIndex.get(m.to)!
    t.true(hostOf[v] === hostIndex.get(m.from), `${m.vm} is not on ${m.from}`)
    mem[hostOf[v]!]! -= inst.vmMemory[v]!; mem[to]! += inst.vmMemory[v]!
    t.true(mem[to]! <= inst.hostMemory[to]!, `${m.to} overfilled by ${m.vm}`)
    hostOf[v] = to
    costs.push(evaluate(model, hostOf).total)
  }
  return costs
}

test('every lookahead plan under a move budget (as every agent plans) costs at most the start after every step, and the round lowers it: 50 seeded scenarios', t => {
  let reordered = 0
  let rising = 0
  for (let seed = 1; seed <= 50; seed++) {
    const kind = SCENARIO_KINDS[seed % SCENARIO_KINDS.length]!
    const inst = compile(generate(kind, { vms: 12 + (seed * 37) % 300, dcs: 2 + seed % 4, seed }))
    // The last is the agents' default planner section (agent/config.ts).
    for (const config of [{ maxMoves: 5 }, { maxMoves: 1000 }, { maxMoves: 5, maxMovesPerHost: 2, minGain: 0.001 }] as PlannerConfig[]) {
      const model = new CostModel(inst, config)
      const plan = planLookahead(inst, config)
      const start = evaluate(model, inst.vmHost).total
      const tol = 1e-9 * Math.max(1, start)
      const costs = prefixCosts(t, inst, model, plan)
      const ends = stepEnds(plan)
      t.is(ends.at(-1) ?? -1, plan.moves.length - 1, 'the steps hold every move')
      for (const e of ends) t.true(costs[e]! <= start + tol, `${kind} seed ${seed} ${JSON.stringify(config)}: after a step the cost is ${costs[e]} > start ${start}`)
      for (const n of plan.steps ?? []) t.true(n >= 1 && n <= (config.maxMoves ?? Infinity), 'a step fits the round')
      if (costs.some(c => c > start + tol)) rising++
      t.true(plan.moves.length <= (config.maxMoves ?? Infinity))
      t.is(new Set(plan.moves.map(m => m.vm)).size, plan.moves.length, 'each VM moves at most once')
      const touches = new Map<string, number>()
      for (const m of plan.moves) for (const h of [m.from, m.to]) touches.set(h, (touches.get(h) ?? 0) + 1)
      t.true(Math.max(0, ...touches.values()) <= (config.maxMovesPerHost ?? Infinity), `${kind} seed ${seed}: a host in more moves than its limit`)
      if (plan.moves.length > 0) t.true(plan.initialCost - plan.finalCost > (config.minGain ?? 0) * plan.moves.length, 'the plan gains more than minGain per move')
      if (plan.moves.some((m, i) => i > 0 && m.cost > plan.moves[i - 1]!.cost + tol)) reordered++
    }
  }
  t.log(`${reordered}/150 plans hold a move that raises the cost (in a group); in ${rising} a group passes above the start on its way, every step ending below it`)
})

/**
 * Two applications split over two full hosts (A and B, room for two VMs
 * each), and C with room but behind thinner links (300 bit/s against A-B's 1000). Gathering them takes an
 * exchange: x2 cannot join x1 on A until y1 leaves for C, and that first
 * move alone raises the cost. No plan safe to stop after every single move
 * gets anywhere; a step of two moves, which fits a round, does.
 */
function exchangeWorld (): Instance {
  return compile(snapshot({
    dcs: ['A', 'B', 'C'],
    links: [...mesh(['A', 'B'], 1000), ...mesh(['A', 'C'], 300).filter(l => l.from === 'C' || l.to === 'C'), ...mesh(['B', 'C'], 300).filter(l => l.from === 'C' || l.to === 'C')],
    hosts: [{ id: 'a', dc: 'A', memoryMiB: 2048, vcpus: 8 }, { id: 'b', dc: 'B', memoryMiB: 2048, vcpus: 8 }, { id: 'c', dc: 'C', memoryMiB: 2048, vcpus: 8 }],
    vms: [
      { id: 'x1', host: 'a', memoryMiB: 1024, vcpus: 1 },
      { id: 'y1', host: 'a', memoryMiB: 1024, vcpus: 1 },
      { id: 'x2', host: 'b', memoryMiB: 1024, vcpus: 1 },
      { id: 'y2', host: 'b', memoryMiB: 1024, vcpus: 1 }
    ],
    flows: [
      { src: 'x1', dst: 'x2', bps: 100 }, { src: 'x2', dst: 'x1', bps: 100 },
      { src: 'y1', dst: 'y2', bps: 100 }, { src: 'y2', dst: 'y1', bps: 100 }
    ]
  }))
}

test('an exchange through full hosts is one step of a round: it rises on its way and ends lower', t => {
  const inst = exchangeWorld()
  const config: PlannerConfig = { maxMoves: 5, maxMovesPerHost: 2, minGain: 0.001 }
  const model = new CostModel(inst, config)
  const plan = planLookahead(inst, config)
  const costs = prefixCosts(t, inst, model, plan)
  t.true(plan.finalCost < plan.initialCost / 2, `the exchange is made: ${plan.initialCost} -> ${plan.finalCost}`)
  t.true(costs[0]! > plan.initialCost, 'its first move raises the cost')
  t.deepEqual(plan.steps, [2, 1], 'y1 leaves for C and x2 joins x1 as one step; then y2 joins y1')
  t.true(stopsSafely(plan))
  // Step by step, each step a single move: nothing gains.
  const singles = planBestFirst(model, config, 'best-first')
  t.is(singles.moves.length, 0, 'no single move lowers the cost here')
})

/**
 * Three DCs; A's one host holds a pair that talks only to each other and
 * to C; B is empty. Moving the pair to C one VM at a time first splits it
 * (the pair's own traffic then crosses the WAN): a plan that moves the
 * chatty one first rises above the start on its way.
 */
function pairWorld (): Instance {
  return compile(snapshot({
    dcs: ['A', 'B', 'C'],
    links: mesh(['A', 'B', 'C'], 1000),
    hosts: [{ id: 'a', dc: 'A', memoryMiB: 4096, vcpus: 8 }, { id: 'b', dc: 'B', memoryMiB: 4096, vcpus: 8 }, { id: 'c', dc: 'C', memoryMiB: 4096, vcpus: 8 }],
    vms: [
      { id: 'p', host: 'a', memoryMiB: 512, vcpus: 1, pinned: false },
      { id: 'q', host: 'a', memoryMiB: 512, vcpus: 1, pinned: false },
      { id: 'z', host: 'c', memoryMiB: 512, vcpus: 1, pinned: true }
    ],
    flows: [
      { src: 'p', dst: 'q', bps: 100 }, { src: 'q', dst: 'p', bps: 100 },
      { src: 'p', dst: 'z', bps: 10 }, { src: 'q', dst: 'z', bps: 300 }
    ]
  }))
}

function planOf (inst: Instance, model: CostModel, moves: Array<[string, string]>): Plan {
  const hostOf = Int32Array.from(inst.vmHost)
  const start = evaluate(model, hostOf).total
  const out: Plan['moves'] = []
  let before = start
  for (const [vm, to] of moves) {
    const v = inst.vmIds.indexOf(vm); const h = inst.hostIds.indexOf(to)
    const from = inst.hostIds[hostOf[v]!]!
    hostOf[v] = h
    const cost = evaluate(model, hostOf).total
    out.push({ vm, from, to, fromDc: inst.dcIds[inst.hostDc[inst.vmHost[v]!]!]!, toDc: inst.dcIds[inst.hostDc[h]!]!, cost, gain: before - cost })
    before = cost
  }
  return { planner: 'hand', initialCost: start, finalCost: before, moves: out, stopped: 'converged' }
}

test('a plan that rises above its start on the way is reordered to one that does not, ending as low', t => {
  const inst = pairWorld()
  const model = new CostModel(inst)
  // p first: the pair splits and its 200 bit/s cross A-C before q's 300 to z come home.
  const plan = planOf(inst, model, [['p', 'c'], ['q', 'c']])
  t.false(stopsSafely(plan), `the hand plan rises: ${plan.initialCost} -> ${plan.moves[0]!.cost}`)
  const safe = anytimeOrder(model, plan)
  t.true(stopsSafely(safe))
  t.deepEqual(safe.moves.map(m => m.vm), ['q', 'p'], 'q (the one that gains alone) first')
  t.true(Math.abs(safe.finalCost - plan.finalCost) <= 1e-9, `ends as low: ${safe.finalCost} vs ${plan.finalCost}`)
})

test('a safe plan keeps its gain; a move that only raises the cost is dropped', t => {
  const inst = pairWorld()
  const model = new CostModel(inst)
  // q and p to C, then p on to B: the last move splits the pair again for nothing.
  const plan = planOf(inst, model, [['q', 'c'], ['p', 'c']])
  const safe = anytimeOrder(model, plan)
  t.deepEqual(safe.moves.map(m => [m.vm, m.to]), [['q', 'c'], ['p', 'c']])
  const worse = planOf(inst, model, [['q', 'b'], ['p', 'c']])
  const trimmed = anytimeOrder(model, worse)
  t.true(stopsSafely(trimmed))
  t.true(trimmed.finalCost <= trimmed.initialCost)
  t.false(trimmed.moves.some(m => m.vm === 'q' && m.to === 'b'), 'q to B only raises the cost (its 300 bit/s to z cross B-C instead of A-C, and the pair splits): dropped')
})

/**
 * One planner for the CLI and the agents: a budget is a limit inside the
 * search, not a switch. Before, any budget turned annealing and polishing
 * off (a budget of 10^6 moves took small instances from 1.11x to 1.83x the
 * optimum). Now a budget that never binds plans as well as no budget, except
 * where the unlimited plan must pass above its start (a swap between full
 * hosts), which no plan safe to stop anywhere can do. 24 instances (12-71
 * VMs, every scenario kind): 60 took 104 s of CI for the same verdict (none
 * worse either way, measured at 607eeba).
 */
test('a budget that never binds plans as well as no budget: 24 seeded small instances', t => {
  let worse = 0
  for (let seed = 1; seed <= 24; seed++) {
    const kind = SCENARIO_KINDS[seed % SCENARIO_KINDS.length]!
    const inst = compile(generate(kind, { vms: 12 + (seed * 7) % 60, dcs: 2 + seed % 3, seed }))
    const free = planLookahead(inst)
    const budgeted = planLookahead(inst, { maxMoves: 1_000_000 })
    if (budgeted.finalCost <= free.finalCost + 1e-9 * Math.max(1, free.initialCost)) continue
    worse++
    t.false(stopsSafely(free), `seed ${seed}: the unlimited plan never rises above its start, yet the budgeted one ends higher (${budgeted.finalCost} > ${free.finalCost})`)
  }
  t.true(worse <= 1, `${worse}/24 budgeted plans end above the unlimited one`)
  t.log(`${worse}/24 budgeted plans end above the unlimited one (each because that plan passes above its start)`)
})

test('the plain best-first candidate: every move gains more than minGain, within the budget and the per-host limit, each VM once', t => {
  for (let seed = 1; seed <= 20; seed++) {
    const kind = SCENARIO_KINDS[seed % SCENARIO_KINDS.length]!
    const inst = compile(generate(kind, { vms: 30 + seed * 10, dcs: 2 + seed % 3, seed }))
    const config = { maxMoves: 20, maxMovesPerHost: 2, minGain: 0.001 }
    const model = new CostModel(inst)
    const plan = planBestFirst(model, config, 'best-first')
    const costs = prefixCosts(t, inst, model, plan)
    t.true(plan.moves.length > 0 && plan.moves.length <= 20, `${kind} seed ${seed}: ${plan.moves.length} moves`)
    costs.forEach((c, i) => t.true((i === 0 ? plan.initialCost : costs[i - 1]!) - c > config.minGain, `${kind} seed ${seed}: move ${i} gains too little`))
    t.is(new Set(plan.moves.map(m => m.vm)).size, plan.moves.length)
    const touches = new Map<string, number>()
    for (const m of plan.moves) for (const h of [m.from, m.to]) touches.set(h, (touches.get(h) ?? 0) + 1)
    t.true(Math.max(...touches.values()) <= 2)
  }
})
