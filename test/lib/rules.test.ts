/**
 * Placement rules (lib/rules.ts, lib/rule-counts.ts, lib/planners/rules-first.ts):
 * parsed with clear errors, never broken by any planner at any prefix of its
 * plan, and a broken one mended before any move for cost.
 */
import test from 'ava'
import { compile } from '../../lib/instance.ts'
import { ValidationError } from '../../lib/errors.ts'
import type { Plan, PlacementRule, Snapshot } from '../../lib/model.ts'
import { PLANNERS } from '../../lib/planners/index.ts'
import { planEvacuation } from '../../lib/planners/evacuate.ts'
import { planLookahead } from '../../lib/planners/lookahead.ts'
import { planThesis } from '../../lib/planners/thesis.ts'
import { planSafely } from '../../lib/planners/safe-plan.ts'
import type { PlannerConfig } from '../../lib/planners/config.ts'
import { checkPlanNow } from '../../lib/plan-check.ts'
import { RuleCounts } from '../../lib/rule-counts.ts'
import { brokenRules, withRules } from '../../lib/rules.ts'
import { generate, SCENARIO_KINDS } from '../../lib/scenario.ts'
import { parseSnapshot } from '../../lib/snapshot.ts'
import { brokenAlong, keptRules, startDcs } from '../../lab/model/kept-rules.ts'

/** The agents' default planner section (agent/config.ts). */
const AGENT: PlannerConfig = { maxMoves: 5, maxMovesPerHost: 2, minGain: 0.001, weights: { migration: 1 }, amortizeSeconds: 3600 }

function scenario (seed: number, vms: number): Snapshot {
  const kind = SCENARIO_KINDS[seed % SCENARIO_KINDS.length]!
  const base = generate(kind, { vms, dcs: 2 + seed % 4, seed })
  return { ...base, rules: keptRules(base, seed) }
}

function parseErrors (s: unknown): string[] {
  try { parseSnapshot(s) } catch (e) { if (e instanceof ValidationError) return e.issues.map(i => `${i.path}: expected ${i.expected}, found ${i.found}`); throw e }
  return []
}

test('rules in a snapshot are read, and a rule naming what the snapshot does not hold is an error with its path', t => {
  const base = generate('thesis', { vms: 12, dcs: 3, seed: 1 })
  const group = base.vms[0]!.group!
  const good: PlacementRule[] = [{ kind: 'spread', group, minDcs: 2, maxPerDc: 3 }, { kind: 'together', group }, { kind: 'avoid', vm: 'vm1', dcs: ['dc1'] }]
  t.deepEqual(parseSnapshot({ ...base, rules: good }).rules, good)
  const errors = parseErrors({
    ...base,
    rules: [
      { kind: 'spread', group: 'nosuch', maxPerDc: 1 },
      { kind: 'avoid', vm: 'vm999', dcs: ['dc0'] },
      { kind: 'avoid', group, dcs: ['mars'] },
      { kind: 'avoid', vm: 'vm1', group, dcs: ['dc0'] },
      { kind: 'avoid', vm: 'vm1', dcs: base.dcs.map(d => d.id) },
      { kind: 'spread', group },
      { kind: 'spread', group, minDcs: 4 },
      { kind: 'near', group }
    ]
  })
  t.deepEqual(errors, [
    'rules[0].group: expected a group some VM in vms[] belongs to, found "nosuch"',
    'rules[1].vm: expected the id of a VM in vms[], found "vm999"',
    'rules[2].dcs[0]: expected the id of a DC in dcs[], found "mars"',
    'rules[3]: expected exactly one of vm and group, found "both"',
    'rules[4].dcs: expected a DC left to run in (not every DC), found "all 3"',
    'rules[5]: expected minDcs or maxPerDc (or both), found "neither"',
    'rules[6].minDcs: expected a number <= 3, found 4',
    'rules[7].kind: expected one of spread, together, avoid, found "near"'
  ])
})

test('rules from an agent config that name what the snapshot lacks are left out and said, not fatal', t => {
  const base = generate('thesis', { vms: 12, dcs: 3, seed: 1 })
  const { snapshot, ignored } = withRules(base, [{ kind: 'avoid', vm: 'vm1', dcs: ['dc2'] }, { kind: 'together', group: 'gone' }])
  t.deepEqual(snapshot.rules, [{ kind: 'avoid', vm: 'vm1', dcs: ['dc2'] }])
  t.deepEqual(ignored, ['rules[1].group: expected a group some VM in vms[] belongs to, found "gone"'])
})

test('the fast check: a move is allowed when it makes no rule worse, and mending counts', t => {
  // Four members of one group, two DCs of three; avoid dc2 for vm0.
  const base = generate('thesis', { vms: 8, dcs: 3, seed: 2 })
  const g = base.vms[0]!.group!
  const members = base.vms.filter(v => v.group === g).map(v => v.id)
  const s: Snapshot = { ...base, rules: [{ kind: 'spread', group: g, maxPerDc: 1 }, { kind: 'avoid', vm: members[0]!, dcs: ['dc2'] }] }
  const inst = compile(s)
  const dc = (v: number): number => inst.hostDc[inst.vmHost[v]!]!
  const rc = new RuleCounts(inst.rules!, inst.nDc, dc)
  const v0 = inst.vmIds.indexOf(members[0]!)
  t.false(rc.allows(v0, dc(v0), 2), 'into an avoided DC')
  const broken = brokenRules(s, startDcs(s)).length
  t.is(rc.violation > 0, broken > 0, 'the counts and the JSON check agree on whether a rule is broken')
})

test('no planner ever breaks a rule the start keeps, at any prefix of its plan: 50 seeded scenarios with random rules', t => {
  let moves = 0; let rules = 0
  for (let seed = 1; seed <= 50; seed++) {
    const s = scenario(seed, 12 + (seed * 37) % 100)
    rules += s.rules!.length
    const inst = compile(s)
    t.deepEqual(brokenRules(s, startDcs(s)), [], 'the start keeps the rules')
    const draining = { ...s, hosts: s.hosts.map((h, i) => i === 0 ? { ...h, draining: true } : h) }
    // The guard after the planner (rules-first.ts) never has to cut: the planners alone keep the rules.
    // (Moves compared by what moves where: the guard evaluates the final cost afresh.)
    const where = (p: Plan): string[] => p.moves.map(m => `${m.vm}:${m.from}->${m.to}`)
    const agents = PLANNERS.lookahead!(inst, AGENT)
    t.deepEqual(where(agents), where(planLookahead(inst, AGENT)), `seed ${seed}: the guard cut the agents' plan`)
    t.deepEqual(where(PLANNERS.thesis!(inst)), where(planThesis(inst)), `seed ${seed}: the guard cut Algorithm 1's plan`)
    const plans = [
      ['lookahead (agents)', agents],
      ...(seed % 2 === 0 ? [['lookahead budget 20', planLookahead(inst, { maxMoves: 20 })] as const] : []),
      ['thesis', planThesis(inst)],
      ['evacuate', planEvacuation(draining, AGENT) ?? { moves: [] }],
      ...(seed % 10 === 0 ? [['lookahead', planLookahead(inst)] as const] : [])
    ] as const
    for (const [name, plan] of plans) {
      const along = brokenAlong(s, { ...plan, planner: name, initialCost: 0, finalCost: 0, stopped: 'converged' })
      const at = along.findIndex(b => b.length > 0)
      t.is(at, -1, `seed ${seed} ${name}: after move ${at} ${JSON.stringify(along[at])}`)
      moves += plan.moves.length
    }
  }
  t.log(`${rules} rules, ${moves} moves checked`)
})

test('a broken avoid rule is mended first, before moves for cost, even when mending costs', t => {
  for (let seed = 1; seed <= 10; seed++) {
    const base = generate(SCENARIO_KINDS[seed % 3]!, { vms: 40, dcs: 3, seed })
    const dcOf = startDcs(base)
    const victims = base.vms.slice(0, 2).map(v => v.id)
    const rules: PlacementRule[] = victims.map(vm => ({ kind: 'avoid', vm, dcs: [dcOf.get(vm)!] }))
    const s = { ...base, rules }
    for (const config of [AGENT, { maxMoves: 1 }, {}] as PlannerConfig[]) {
      const plan = PLANNERS.lookahead!(s, config)
      const first = plan.moves.slice(0, Math.min(2, config.maxMoves ?? 2)).map(m => m.vm)
      t.true(first.length === Math.min(2, config.maxMoves ?? 2) && first.every(vm => victims.includes(vm)), `seed ${seed}: the rule's VMs move first`)
      const along = brokenAlong(s, plan)
      t.true(along.at(-1)!.length === 0 || (config.maxMoves ?? 2) < 2, `seed ${seed}: mended by the end`)
      // No move makes the rules worse: the number broken never rises.
      for (let i = 1; i < along.length; i++) t.true(along[i]!.length <= along[i - 1]!.length)
    }
  }
})

test('a broken maxPerDc is mended first: members leave the crowded DC', t => {
  const base = generate('clustered', { vms: 60, dcs: 3, seed: 4 })
  const dcOf = startDcs(base)
  const groups = new Map<string, Map<string, number>>()
  for (const v of base.vms) {
    const m = groups.get(v.group!) ?? new Map<string, number>()
    m.set(dcOf.get(v.id)!, (m.get(dcOf.get(v.id)!) ?? 0) + 1)
    groups.set(v.group!, m)
  }
  const [group, perDc] = [...groups].sort((a, b) => Math.max(...b[1].values()) - Math.max(...a[1].values()))[0]!
  const most = Math.max(...perDc.values())
  t.true(most >= 3)
  const s: Snapshot = { ...base, rules: [{ kind: 'spread', group, maxPerDc: most - 2 }] }
  const plan = PLANNERS.lookahead!(s, {})
  t.true(plan.moves.slice(0, 2).every(m => base.vms.find(v => v.id === m.vm)!.group === group), 'the first two moves are the group\'s')
  t.deepEqual(brokenAlong(s, plan).at(-1), [], 'kept at the end')
})

test('a waiting plan that would break a rule now is refused with the rule as the reason (approve mode checks plans as it checks pins)', t => {
  const base = generate('thesis', { vms: 12, dcs: 3, seed: 1 })
  const plan = PLANNERS.lookahead!(base, {})
  const m = plan.moves[0]!
  t.true(checkPlanNow(base, plan.moves).ok)
  const ruled: Snapshot = { ...base, rules: [{ kind: 'avoid', vm: m.vm, dcs: [m.toDc] }] }
  const check = checkPlanNow(ruled, plan.moves)
  t.false(check.ok)
  t.is(check.ok ? '' : check.reason, `moving ${m.vm} to ${m.toDc} breaks a placement rule now`)
})

test('an agent\'s round mends a broken rule even when that does not cut the cost by the minimum improvement', t => {
  const base = generate('clustered', { vms: 60, dcs: 3, seed: 7 })
  const vm = base.vms[3]!.id
  const s: Snapshot = { ...base, rules: [{ kind: 'avoid', vm, dcs: [startDcs(base).get(vm)!] }] }
  const round = planSafely(s, { planner: PLANNERS.lookahead!, config: AGENT, limits: { maxInFlight: 5, maxInFlightPerHost: 2, minImprovement: 0.9 }, onTheMove: [], cooling: [] })
  t.is(round.verdict, 'run')
  t.is(round.plan.moves[0]?.vm, vm)
  t.true((round.plan.mends ?? 0) >= 1)
  // Without the rule the same round is held back: nothing cuts 90% of the cost.
  t.is(planSafely(base, { planner: PLANNERS.lookahead!, config: AGENT, limits: { maxInFlight: 5, maxInFlightPerHost: 2, minImprovement: 0.9 }, onTheMove: [], cooling: [] }).verdict, 'below-min-improvement')
})
