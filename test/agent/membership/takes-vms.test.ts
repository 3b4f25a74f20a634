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
  // Draining before e1's state arrived sent both VMs to DC A (seen in CI twice, stop 33 and stop 36).
  await waitFor(() => all.every(a => a.view.member('e1')?.state !== undefined && a.view.membersHash === e1.view.membersHash), GENEROUS_MS, 'every agent to hold e1\'s state')
  // Counted in b1's accepted plans, not in rounds of the clock: on a loaded
  // machine a round can pass with no plan at all (every rank late), and a
  // clock count then fails a host that took its VMs at the first plans
  // (3 rounds once, under a full load beside the suite).
  const b1 = cluster.agents.get('b1')!
  const plans: Array<{ round: number, atMs: number }> = []
  const starts = new Map<string, number>()
  const unobserve = b1.observe(e => {
    if (e.type === 'plan-accepted') plans.push({ round: e.round, atMs: e.atMs })
    if (e.type === 'migration' && e.phase === 'started' && e.to === 'e1') starts.set(e.vm, roundAt(e.atMs, timing))
  })
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
    throw err
  }
  const rounds = roundAt(Date.now(), timing) - roundAt(admittedAt, timing)
  // The plans b1 accepted after the drain, up to the round the last VM left in.
  const last = Math.max(...['v1', 'v2'].map(vm => starts.get(vm) ?? Infinity))
  const used = new Set(plans.filter(p => p.atMs >= admittedAt && p.round <= last).map(p => p.round)).size
  t.log(`both VMs on e1 ${Date.now() - admittedAt} ms (${rounds} round(s), ${used} plan(s)) after its admission and b1's drain`)
  t.true(Number.isFinite(last), 'both VMs were migrated to e1 by b1')
  t.true(used <= 2, `within the first two plans after the drain (${used}: rounds ${plans.map(p => p.round).join(' ')}, last VM left in round ${last})`)
})
