/**
 * Scenarios end to end, with real agents in the lab (each test builds,
 * runs and removes its own lab under a unique prefix):
 * - the thesis's star: the WAN load the router measures after the agents'
 *   rounds is lower than before; every VM on exactly one host, no host over
 *   capacity;
 * - follow-the-sun: after each shift the web VMs are in the DC where most
 *   of their client traffic enters.
 */
import { fileURLToPath } from 'node:url'
import { runScenario, type RunResult } from '../../lab/run/runner.ts'
import { loadScenario, type Scenario } from '../../lab/run/scenario.ts'
import { labScope, labTest } from './helpers.ts'

const test = await labTest('test/lab/scenarios.test.ts')
const scenarioFile = (name: string): string => fileURLToPath(new URL(`../../lab/scenarios/${name}.json`, import.meta.url))
/** Startup of the agents and the teardown come on top of the traffic's duration. */
const OVERHEAD_MS = 120_000

const mbit = (bps: number): string => (bps / 1e6).toFixed(2)

function logRun (t: { log: (...v: unknown[]) => void }, r: RunResult): void {
  for (const p of r.phases) t.log(`${p.name}: WAN offered ${mbit(p.before.offeredBps)} -> ${mbit(p.after.offeredBps)} Mbit/s, carried ${mbit(p.before.carriedBps)} -> ${mbit(p.after.carriedBps)} Mbit/s, measured cost ${p.before.cost.toFixed(3)} -> ${p.after.cost.toFixed(3)} (${p.before.points} samples before, ${p.after.points} after), ${p.migrations} migrations`)
  const downs = r.migrations.filter(m => m.ok && m.downtimeMs !== undefined).map(m => m.downtimeMs!).sort((a, b) => a - b)
  t.log(`${r.migrations.filter(m => m.ok).length} migrations done, ${r.migrations.filter(m => !m.ok).length} failed; downtime median ${downs[Math.floor(downs.length / 2)] ?? '-'} ms, max ${downs[downs.length - 1] ?? '-'} ms; ${r.plans.length} rounds planned`)
  if (r.agentErrors.length > 0) t.log(`agent errors: ${r.agentErrors.slice(0, 5).join('; ')}`)
}

test('thesis star: the agents take WAN load off the router\'s links and keep the invariants', async t => {
  const scenario = await loadScenario(scenarioFile('thesis-star'))
  t.timeout(scenario.durationSec * 1000 + OVERHEAD_MS)
  const { prefix, dir } = await labScope(t)
  const r = await runScenario(scenario, { prefix, dir })
  logRun(t, r)
  const p = r.phases[0]!
  t.true(p.before.points >= 2 && p.after.points >= 2, 'enough samples before and after')
  t.true(p.after.offeredBps < p.before.offeredBps, `WAN load after ${p.after.offeredBps} is not lower than before ${p.before.offeredBps}`)
  t.true(r.migrations.some(m => m.ok), 'the agents migrated VMs')
  t.true(r.final.ok, r.final.problems.join('; '))
  t.is(Object.keys(r.final.hostOf).length, scenario.vms.length, 'every VM on exactly one host')
})

test('follow-the-sun: after each shift the web VMs are where their clients enter', async t => {
  const scenario = await loadScenario(scenarioFile('follow-the-sun'))
  t.timeout(scenario.durationSec * 1000 + OVERHEAD_MS)
  const { prefix, dir } = await labScope(t)
  const r = await runScenario(scenario, { prefix, dir })
  logRun(t, r)
  t.true(r.final.ok, r.final.problems.join('; '))
  t.is(r.placements.length, scenario.phases.length, 'one placement per phase')
  const webs = scenario.vms.filter(v => v.group === 'web' && scenario.phases[0]!.flows.some(f => (f.src === v.id || f.dst === v.id) && isExternal(scenario, f.src === v.id ? f.dst : f.src))).map(v => v.id)
  t.true(webs.length > 0)
  scenario.phases.forEach((phase, i) => {
    const placed = r.placements[i]!
    for (const vm of webs) {
      const want = clientDc(scenario, phase.flows, vm)
      const got = r.hostDc[placed.hostOf[vm] ?? ''] ?? 'nowhere'
      t.log(`end of ${phase.name}: ${vm} in ${got} (${placed.hostOf[vm]}), most of its client traffic enters at ${want}`)
      t.is(got, want, `${vm} at the end of ${phase.name}`)
    }
  })
})

function isExternal (s: Scenario, id: string): boolean {
  return s.topology.externals.some(e => e.id === id)
}

/** The DC where most of `vm`'s client traffic (both ways) enters in a phase. */
function clientDc (s: Scenario, flows: Scenario['phases'][number]['flows'], vm: string): string {
  const byExt = new Map<string, number>()
  for (const f of flows) {
    const other = f.src === vm ? f.dst : f.dst === vm ? f.src : undefined
    if (other !== undefined && isExternal(s, other)) byExt.set(other, (byExt.get(other) ?? 0) + f.bps)
  }
  const top = [...byExt].sort((a, b) => b[1] - a[1])[0]![0]
  return s.topology.externals.find(e => e.id === top)!.dc
}
