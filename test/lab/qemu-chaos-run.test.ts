/**
 * Chaos with real QEMU guests, short: 4 hosts in 2 DCs, 6 TCG guests, real
 * agents with the qemu driver in mode auto, and the fault cycle (kill -9 a
 * migration's source agent while it migrates, the WAN between the DCs cut,
 * kill -9 an agent; each agent started again). After every round QEMU's own
 * query-status on every host says where each guest runs: never on no host
 * or two (a guest mid hand-over for a killed source agent counts on its
 * target, and its wait is bounded), no host over capacity, no round with
 * two plans acted on.
 */
import { overlongHandOvers, runQemuChaos } from '../../lab/chaos/qemu-chaos-run.ts'
import { qemuChaosSummary } from '../../lab/cli/lab-chaos-qemu.ts'
import { requires } from '../prerequisites.ts'
import { labScope, LAB_NEEDS } from './helpers.ts'

const test = await requires('test/lab/qemu-chaos-run.test.ts', ...LAB_NEEDS, 'qemu', 'kernel-image', 'busybox')
/** Enough for each fault kind once (gap 1 + hold 2 rounds each, kill-source waiting for a migration). */
const ROUNDS = 12

test('QEMU chaos: real guests and agents, faults mid-migration; QEMU places every guest on exactly one host every round', async t => {
  // Guests booting under TCG and agents starting on a loaded machine, then 12 rounds of 6 s.
  t.timeout(600_000)
  const { prefix, dir } = await labScope(t)
  const r = await runQemuChaos({ rounds: ROUNDS, seed: 1, prefix, dir, print: line => { t.log(line) } })
  for (const l of qemuChaosSummary(r)) t.log(l)
  t.deepEqual(r.violations, [])
  // A guest whose source agent was killed after its state moved waits paused for that agent, never longer than its restart.
  t.deepEqual(overlongHandOvers(r), [])
  t.deepEqual(r.splitRounds, [])
  t.deepEqual(r.crashes, [])
  t.true(r.faults['wan-down'] + r.faults.kill + r.faults['kill-source'] >= 2, 'faults were injected')
  t.true(r.migrations.started > 0, 'the agents migrated guests')
})
