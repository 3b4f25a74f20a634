import test from 'ava'
import { loadOrCreateAdminKey } from '../../../agent/membership/admin-key.ts'
import { buildToken } from '../../../agent/membership/invite.ts'
import { roundAt } from '../../../lib/rounds.ts'
import { waitFor } from '../mesh/harness.ts'
import { acceptToken, fourWithAdminKey, GENEROUS_MS, type LogLine } from './four.ts'

test.serial('a host admitted from a token takes VMs: b1, drained, moves its two VMs to e1, the only other host of its DC', async t => {
  const lines: LogLine[] = []
  // Two VMs on b1 talking to each other: together, in DC B, they cost nothing; e1 is B's only other host.
  const { cluster, newcomer, adminKeyFile } = await fourWithAdminKey(t, lines, {
    vms: ['v1', 'v2'].map((id, i) => ({ id, host: 'b1', memoryMiB: 1024, vcpus: 1, addresses: [`fd00:2::${i + 1}`] })),
    traffic: { flows: [{ src: 'v1', dst: 'v2', bps: 40e6 }, { src: 'v2', dst: 'v1', bps: 40e6 }], prefixes: [] },
    planner: {}
  })
  const a1 = cluster.agents.get('a1')!
  const timing = a1.timing
  const admin = await loadOrCreateAdminKey(adminKeyFile)
  const { token } = await buildToken(cluster.configs.get('a1')!, admin, { host: 'e1', dc: 'B', now: Date.now(), bootstrap: cluster.bootstrap })
  await acceptToken(cluster, newcomer, token)
  const e1 = await cluster.start('e1')
  const all = [...cluster.agents.values()]
  // Listed as a member is not enough: a planner places VMs only on hosts whose state (capacity, DC) it holds.
  // Draining before e1's state arrived sent both VMs to DC A (seen in CI twice, stop 33 and stop 36). Under
  // load, a planner without b1's digest yet (no traffic known) did too, 5 times in 36 runs: moves are free in
  // the lab and every host tied, so a1 came first by index. Evacuation now keeps a VM in its DC at equal cost.
  // Held is not enough either: the snapshot takes only members up (view.isUp: a state, the same topology, heard from lately) and not leaving.
  await waitFor(() => all.every(a => a.view.live(Date.now()).some(m => m.host === 'e1') && a.view.membersHash === e1.view.membersHash), GENEROUS_MS, 'every agent to count e1 as a live member')
  // Counted in the plans b1 accepted after the drain, not in rounds of the
  // clock: on a loaded machine a round can pass with no plan at all (every
  // rank late), which a clock count charges to the host. The first of those
  // plans may have been made before the drain (the round under way), and
  // the next from a snapshot taken before b1's drained state arrived: so
  // three, as the clock count allowed (the drain's round and two more).
  const b1 = cluster.agents.get('b1')!
  const accepted: Array<{ round: number, atMs: number }> = []
  const unobserve = b1.observe(e => { if (e.type === 'plan-accepted') accepted.push({ round: e.round, atMs: e.atMs }) })
  t.teardown(unobserve)
  const admittedAt = Date.now()
  t.true((await b1.controls.drain(true)).ok)
  try {
    await waitFor(async () => (await cluster.world.vms()).every(v => v.host === 'e1'), GENEROUS_MS, 'both VMs on e1')
  } catch (err) {
    // Failed once in CI (stop 33, not reproduced in 8 runs under load): say where the VMs are and what the hosts said.
    t.log(`VMs: ${(await cluster.world.vms()).map(v => `${v.id}@${v.host}`).join(' ')}`)
    for (const [host, a] of cluster.agents) t.log(`${host}: ${JSON.stringify(a.controls.status())}`)
    for (const l of lines.slice(-30)) t.log(JSON.stringify(l))
    // The plans that moved VMs, as b1 accepted them, and what their planners' own records say.
    for (const [r, rec] of b1.rounds) {
      if (rec.plan === undefined || rec.plan.moves.length === 0) continue
      const own = cluster.agents.get(rec.planner ?? '')?.rounds.get(r)
      t.log(`round ${r} (drain in ${roundAt(admittedAt, timing)}): ${rec.planner ?? '?'} rank ${rec.rank ?? '?'}, verdict ${own?.verdict ?? '?'}: ${rec.plan.moves.map(m => `${m.vm} ${m.from}->${m.to}`).join(', ')}`)
    }
    throw err
  }
  const rounds = roundAt(Date.now(), timing) - roundAt(admittedAt, timing)
  const after = [...new Set(accepted.filter(p => p.atMs >= admittedAt).map(p => p.round))].sort((x, y) => x - y)
  // Which of those plans moved each VM to e1 (b1's record of the plan it accepted in that round).
  const which = ['v1', 'v2'].map(vm => after.findIndex(r => b1.rounds.get(r)?.plan?.moves.some(m => m.vm === vm && m.to === 'e1') === true))
  t.log(`both VMs on e1 ${Date.now() - admittedAt} ms (${rounds} round(s)) after its admission and b1's drain; plans accepted after it: rounds ${after.join(' ')}, v1 and v2 moved by plan ${which.map(i => i + 1).join(' and ')}`)
  t.true(which.every(i => i >= 0), 'both VMs moved to e1 by plans b1 accepted after the drain')
  t.true(which.every(i => i < 3), 'within the first three plans after the drain')
})
