import test from 'ava'
import { parseConfig } from '../../../agent/config.ts'
import { LAB_DRIVERS } from '../../../lab/drivers/index.ts'
import { roundAt } from '../../../lib/rounds.ts'
import { startTestCluster, waitFor } from '../mesh/harness.ts'
import { appsSpec, PERIOD_MS, placement, recordMigrations, restartWith } from './mesh.ts'

/**
 * A config that names no mode, parsed as the agent parses its file: the
 * agents only observe. They never plan, and nothing migrates, in a cluster
 * where the same configs with "mode": "auto" do move VMs (checked after).
 */
test('a config without mode does not migrate: the agents observe; with mode auto the same cluster moves VMs', async t => {
  const cluster = await startTestCluster(t, appsSpec(2, { planner: { maxMoves: 0 } }))
  const configs = new Map(cluster.configs)
  const reparse = (mode: string | undefined): void => {
    for (const [host, c] of configs) {
      const { mode: _, ...rest } = { ...c, planner: { ...c.planner, maxMoves: 5, minGain: 0 } }
      cluster.configs.set(host, parseConfig(mode === undefined ? rest : { ...rest, mode }, LAB_DRIVERS))
    }
  }
  reparse(undefined)
  await restartWith(cluster, {})
  const agents = [...cluster.agents.values()]
  t.deepEqual(agents.map(a => a.mode), ['observe', 'observe', 'observe'])
  const before = await placement(cluster)
  const moves = recordMigrations(agents)
  await waitFor(() => agents.every(a => a.view.live(Date.now()).length === 3), 20_000, 'the mesh')
  const from = roundAt(Date.now(), agents[0]!.timing)
  await waitFor(() => roundAt(Date.now(), agents[0]!.timing) >= from + 6, 20 * PERIOD_MS, 'six rounds')
  t.false(agents.some(a => [...a.rounds.values()].some(r => r.planned !== undefined)), 'no agent planned')
  t.deepEqual(moves, [], 'no migration started')
  t.deepEqual(await placement(cluster), before, 'every VM where it was')

  // The control: the same configs with "mode": "auto" move VMs.
  reparse('auto')
  await restartWith(cluster, {})
  const moved = recordMigrations(cluster.agents.values())
  await waitFor(() => moved.some(m => m.phase === 'done'), 30_000, 'a migration with mode auto')
  t.log(`without mode: 6 rounds, no plan, no move; with mode auto: ${moved.filter(m => m.phase === 'done').map(m => `${m.vm}:${m.from}->${m.to}`).join(' ')}`)
})
