/**
 * The search over rounds (lib/planners/round-beam.ts): the round it
 * returns is one an agent may carry out (limits, pins, cooldown, the
 * minimum improvement), the search is deterministic, and on the instance
 * it was built for (bench:optimum's clustered seed 17, where the agents
 * stopped at 2.08 times the optimum) it finds valid rounds to the optimum.
 */
import test from 'ava'
import { CostModel, evaluate } from '../../lib/cost.ts'
import { compile, type Instance } from '../../lib/instance.ts'
import type { Plan } from '../../lib/model.ts'
import { Random } from '../../lib/random.ts'
import { SCENARIO_KINDS } from '../../lib/scenario.ts'
import { type BeamSettings, ROUND_BEAM, searchRounds } from '../../lib/planners/round-beam.ts'
import { benchCase } from '../../lab/bench/optimum/instances.ts'
import { near, runPlan } from './fixtures.ts'
import { clustered17 } from './clustered-17.ts'

/** The agents' round (agent/config.ts): 5 moves, 2 per host, minGain 0.001; a small beam keeps the test quick. */
const SMALL: BeamSettings = { maxMoves: 5, maxPerHost: 2, minGain: 0.001, width: 20, branch: 5, depth: 4, work: 200_000 }
const LOOP = { cooldownRounds: 3, minImprovement: 0.01 }

/** Why `plan` is not a round an agent may carry out on `inst` with `cooling` held, or undefined. */
function invalid (inst: Instance, plan: Plan, s: BeamSettings, held: ReadonlySet<string>): string | undefined {
  const hostOf = runPlan(inst, plan)
  if (typeof hostOf === 'string') return hostOf
  if (plan.moves.length > s.maxMoves) return `${plan.moves.length} moves`
  const touches = new Map<string, number>()
  for (const m of plan.moves) for (const h of [m.from, m.to]) touches.set(h, (touches.get(h) ?? 0) + 1)
  if (Math.max(...touches.values()) > s.maxPerHost) return 'a host in more moves than its limit'
  if (plan.moves.some(m => held.has(m.vm))) return 'a pinned or cooling VM moved'
  const gain = plan.initialCost - plan.finalCost
  if (!(gain >= LOOP.minImprovement * plan.initialCost && gain > s.minGain * plan.moves.length)) return 'gains too little'
  if (!near(evaluate(new CostModel(inst), hostOf).total, plan.finalCost, 1e-7)) return 'the plan\'s cost is not the placement\'s'
  return undefined
}

test('the round found is one an agent may carry out, its path ends at most where the round does, and the search is deterministic (12 instances, some VMs pinned or cooling)', t => {
  let found = 0
  for (let seed = 1; seed <= 12; seed++) {
    const kind = SCENARIO_KINDS[seed % SCENARIO_KINDS.length]!
    const base = benchCase(kind, 12 + seed, 3, seed, 1.2).inst.snapshot
    const rng = new Random(seed)
    // Every third VM pinned; of the rest, every fifth cooling for 1-3 more rounds (pinned this round, as the agents pin it).
    const cooling = new Map<string, number>()
    const vms = base.vms.map((v, i) => {
      if (i % 3 === 0) return { ...v, pinned: true }
      if (i % 5 === 1) { cooling.set(v.id, rng.int(1, 3)); return { ...v, pinned: true } }
      return v
    })
    const inst = compile({ ...base, vms })
    const model = new CostModel(inst)
    const r = searchRounds(inst, model, { ...LOOP, cooling }, SMALL, 'beam')
    t.deepEqual(searchRounds(inst, model, { ...LOOP, cooling }, SMALL, 'beam'), r, `seed ${seed}: the same search twice`)
    t.true(r.work <= SMALL.work + inst.nVm * inst.nHost, `seed ${seed}: work ${r.work} past its bound`)
    if (r.round === undefined) { t.is(r.end, evaluate(model, inst.vmHost).total); continue }
    found++
    const why = invalid(inst, r.round, SMALL, new Set(vms.filter(v => v.pinned === true).map(v => v.id)))
    t.is(why, undefined, `seed ${seed}: ${why ?? ''}`)
    t.true(r.end <= r.round.finalCost * (1 + 1e-9) && r.rounds >= 1, `seed ${seed}: the path ends at ${r.end}, above its first round's ${r.round.finalCost}`)
  }
  t.true(found >= 6, `a round found on only ${found} of 12`)
})

test('a VM that is cooling is not in the round found', t => {
  const inst = compile(clustered17().snapshot)
  const model = new CostModel(inst)
  const free = searchRounds(inst, model, LOOP, SMALL, 'beam')
  t.not(free.round, undefined)
  // Hold every VM of the free search's first round, as if each had just moved.
  const held = new Map(free.round!.moves.map(m => [m.vm, 3]))
  const pinned = compile({ ...inst.snapshot, vms: inst.snapshot.vms.map(v => held.has(v.id) ? { ...v, pinned: true } : v) })
  const r = searchRounds(pinned, new CostModel(pinned), { ...LOOP, cooling: held }, SMALL, 'beam')
  t.not(r.round, undefined)
  t.false(r.round!.moves.some(m => held.has(m.vm)))
})

test('clustered seed 17 (bench:optimum): the search at the agents\' settings finds valid rounds from its start to its proven optimum', t => {
  const c = clustered17()
  const inst = compile(c.snapshot)
  const r = searchRounds(inst, new CostModel(inst), LOOP, { ...ROUND_BEAM, maxMoves: 5, maxPerHost: 2, minGain: 0.001 }, 'beam')
  t.log(`end ${r.end} after ${r.rounds} rounds, ${r.work} moves priced`)
  t.true(near(r.end, c.optimum, 1e-9), `ends at ${r.end}, not ${c.optimum}`)
})
