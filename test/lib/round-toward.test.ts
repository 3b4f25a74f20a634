/**
 * Rounds head for the unlimited plan's placement (lookahead.ts,
 * TOWARD_MIN_SHARE): an agent plans 5 moves, carries them out and plans
 * again. Taking whichever round ends lowest settled applications in DCs
 * that no later round of 5 moves could trade back; heading for where the
 * unlimited plan ends crosses those ridges one step at a time. Played here
 * round after round with the agents' planner section on bench:optimum
 * instances with proven optima (optimum-cases.json), every round checked
 * as a plan an agent would carry out.
 */
import test from 'ava'
import { CostModel, evaluate } from '../../lib/cost.ts'
import { compile } from '../../lib/instance.ts'
import type { PlannerConfig } from '../../lib/planners/config.ts'
import { stepEnds } from '../../lib/planners/anytime.ts'
import { planLookahead } from '../../lib/planners/lookahead.ts'
import { near, runPlan } from './fixtures.ts'
import { cases } from './optimum-cases.ts'

/** The agents' planner section at its defaults (agent/config.ts). */
const AGENTS: PlannerConfig = { maxMoves: 5, maxMovesPerHost: 2, minGain: 0.001 }
/** Far more rounds than these 29-39 VMs need (they settle in 5-11). */
const MAX_ROUNDS = 60

test('round after round with the agents\' limits, applications are traded across ridges to the optimum (two optimum-bench instances)', t => {
  // Taking the lowest round each time, the rounds stopped at 2.96x (thesis seed 4) and 170x (clustered seed 26) these optima.
  const ridged = new Set(['thesis seed 4', 'clustered seed 26'])
  for (const c of cases) {
    let snap = c.snapshot
    let rounds = 0
    let cost = NaN
    for (; rounds < MAX_ROUNDS; rounds++) {
      const inst = compile(snap)
      const model = new CostModel(inst, AGENTS)
      const plan = planLookahead(inst, AGENTS)
      const hostOf = runPlan(inst, plan)
      if (typeof hostOf === 'string') { t.fail(`${c.name} round ${rounds + 1}: ${hostOf}`); return }
      cost = plan.finalCost
      if (plan.moves.length === 0) break
      // What an agent carries out: within the round's limits, every step ends at most the round's start and the round gains minGain per move.
      t.true(plan.moves.length <= AGENTS.maxMoves!)
      const touches = new Map<string, number>()
      for (const m of plan.moves) for (const h of [m.from, m.to]) touches.set(h, (touches.get(h) ?? 0) + 1)
      t.true(Math.max(...touches.values()) <= AGENTS.maxMovesPerHost!, `${c.name} round ${rounds + 1}: a host in more moves than its limit`)
      for (const e of stepEnds(plan)) t.true(plan.moves[e]!.cost <= plan.initialCost * (1 + 1e-9), `${c.name} round ${rounds + 1}: a step ends above the round's start`)
      t.true(plan.initialCost - plan.finalCost > AGENTS.minGain! * plan.moves.length)
      t.true(near(evaluate(model, hostOf).total, plan.finalCost, 1e-7), 'the plan\'s cost is the placement\'s')
      snap = { ...snap, vms: snap.vms.map((v, i) => ({ ...v, host: inst.hostIds[hostOf[i]!]! })) }
    }
    t.true(rounds < MAX_ROUNDS, `${c.name}: the rounds settle`)
    t.true(cost >= c.optimum * (1 - 1e-9), `${c.name}: not below the proven optimum`)
    const ratio = cost / c.optimum
    t.log(`${c.name}: ${ratio.toFixed(3)}x the optimum after ${rounds} rounds of moves`)
    if (ridged.has(c.name)) t.true(ratio <= 1.05, `${c.name}: ${ratio.toFixed(3)}x the optimum`)
  }
})
