import test from 'ava'
import { runSim } from '../../lab/sim/run.ts'
import { simTable } from '../../lab/sim/summary.ts'

const AGENTS = 12
const ROUNDS = 3
/** The whole run, start to close, must fit in this. */
const BUDGET_MS = 60_000

test(`lab sim: ${AGENTS} agents on the memory transport agree on every round's planner and plan, and plans lower the cost`, async t => {
  t.timeout(BUDGET_MS + 10_000)
  const started = Date.now()
  // Algorithm 1 plans in milliseconds: the test is about agreement, not about the planner.
  const r = await runSim({ agents: AGENTS, rounds: ROUNDS, periodMs: 2000, vms: 4 * AGENTS, transport: 'memory', planner: { name: 'thesis' }, readyTimeoutMs: 30_000, out: line => t.log(line) })
  const ms = Date.now() - started
  t.log('\n' + simTable([r]))
  t.true(ms < BUDGET_MS, `took ${ms} ms`)
  t.not(r.readyMs, undefined, 'every agent saw every member live')
  t.is(r.rounds.length, ROUNDS)
  // Agreement in every round but at most one: a loaded machine may starve a round.
  const agreed = r.rounds.filter(s => s.agreed && s.acceptedBy === AGENTS)
  t.true(agreed.length >= ROUNDS - 1, `agreed in ${agreed.length}/${ROUNDS} rounds`)
  t.true(r.rounds.some(s => (s.moves ?? 0) > 0 && s.costAfter! < s.costBefore!), 'some plan moves VMs and lowers the cost')
  t.true(r.rounds.every(s => s.msgsInPerAgent > 0 && s.msgsOutPerAgent > 0), 'gossip flows every round')
})
