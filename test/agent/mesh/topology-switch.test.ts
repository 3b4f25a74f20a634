/**
 * Changing the cluster's topology without a restart (issue 18, "Reload";
 * docs/design.md §3.8): four real agents on [::1] with rounds going on. A
 * new topology file (both WAN links at half their capacity) is staged by a
 * config reload on each host, a round apart, as an operator would roll it
 * out; every agent switches at the same round, no round goes without a plan
 * on any agent, the plans after the switch cost what the new links make
 * them cost, and a host restarted onto the new file afterwards joins as any
 * restart does. A host the operator forgot holds the switch back and is
 * named; once it is down the others switch, and when it comes back on the
 * old file it is dropped and warned about until it is given the new one.
 * The tests run one after the other: each cluster takes the two cores.
 */
import test from 'ava'
import { createHash } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { buildStatus } from '../../../agent/api/status.ts'
import { buildView } from '../../../agent/api/view.ts'
import { formatStatus } from '../../../agent/cli/status-command.ts'
import { reloadAgent } from '../../../agent/daemon.ts'
import type { Agent, ReloadReport } from '../../../agent/agent.ts'
import { createLogger, type Logger } from '../../../agent/log.ts'
import { roundAt } from '../../../lib/rounds.ts'
import { SWITCH_AFTER_ROUNDS } from '../../../lib/topology-switch.ts'
import type { Link } from '../../../lib/model.ts'
import { LAB_DRIVERS } from '../../../lab/drivers/index.ts'
import { startTestCluster, waitFor, type ClusterSpec } from './harness.ts'

/**
 * Rounds of 1 s; on a busy 2-core machine the agents hear each other and
 * plan within a few. The deadline only bounds a hang.
 */
const ROUNDS_MS = 60_000

interface Line { level: string, msg: string, host?: string, [k: string]: unknown }

const links = (capacityBps: number): Link[] => [{ from: 'A', to: 'B', capacityBps }, { from: 'B', to: 'A', capacityBps }]

/**
 * Two DCs, two hosts each, every conversation across the WAN. Plans make no
 * moves (maxMoves 0), so the traffic, and a plan's cost under a topology,
 * stays the same from round to round: the cost then shows which topology a
 * plan was made on.
 */
function spec (log: ClusterSpec['log']): ClusterSpec {
  const hosts = ['a1', 'a2', 'b1', 'b2'].map(host => ({ host, dc: host[0]!.toUpperCase(), memoryMiB: 4096, vcpus: 8 }))
  const vms = hosts.map((h, i) => ({ id: `v${h.host}`, host: h.host, memoryMiB: 1024, vcpus: 1, addresses: [`fd00:1::${i + 1}`] }))
  const flows = [['va1', 'vb1', 100e6], ['va2', 'vb2', 50e6]].flatMap(([a, b, bps]) => [{ src: a as string, dst: b as string, bps: bps as number }, { src: b as string, dst: a as string, bps: bps as number }])
  return { topology: { dcs: [{ id: 'A' }, { id: 'B' }], links: links(1e9), prefixes: [] }, hosts, vms, traffic: { flows, prefixes: [] }, roundPeriodMs: 1000, planner: { maxMoves: 0 }, log }
}

/** The new file (both links at half capacity), written into the cluster's directory; its sha256. */
async function halvedTopology (dir: string): Promise<{ file: string, hash: string }> {
  const text = JSON.stringify({ dcs: [{ id: 'A' }, { id: 'B' }], links: links(5e8), prefixes: [] })
  const file = join(dir, 'topology-v2.json')
  await writeFile(file, text)
  return { file, hash: createHash('sha256').update(text).digest('hex') }
}

/** The reload an operator does on `agent`'s host after pointing its config at `file` (SIGHUP's, in this process). */
async function stage (agent: Agent, dir: string, file: string): Promise<ReloadReport> {
  const path = join(dir, agent.host, 'config.json')
  await writeFile(path, JSON.stringify({ ...agent.config, topologyFile: file }))
  return await reloadAgent(agent, path, LAB_DRIVERS)
}

/** A logger whose topology lines land in `lines` (only those are parsed: four agents log a lot). */
function topologyLog (lines: Line[]): Logger {
  return createLogger({ level: 'info', pretty: false, sink: { write: l => { if (l.includes('topolog')) lines.push(JSON.parse(l) as Line) } } })
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

test.serial('a new topology staged host by host, a round apart, switches everywhere at one round with a plan in every round; a host restarted onto it joins', async t => {
  t.timeout(600_000)
  const lines: Line[] = []
  const cluster = await startTestCluster(t, spec(topologyLog(lines)))
  const agents = [...cluster.agents.values()]
  const timing = agents[0]!.timing
  const planned = (r: number): boolean => agents.every(a => a.rounds.get(r)?.planner !== undefined)
  await waitFor(() => agents.every(a => a.view.live(Date.now()).length === agents.length), ROUNDS_MS, 'every agent to see every member live')
  await waitFor(() => planned(roundAt(Date.now(), timing) - 1), ROUNDS_MS, 'a round planned everywhere')
  // The last round planned everywhere before the first staging.
  const first = roundAt(Date.now(), timing) - 1
  const oldHash = agents[0]!.topology.hash

  const { file, hash: newHash } = await halvedTopology(cluster.dir)

  const stagedAt: number[] = []
  for (const [i, agent] of agents.entries()) {
    const report = await stage(agent, cluster.dir, file)
    t.is(report.result, 'staged', `${agent.host}: ${JSON.stringify(report)}`)
    t.like(report.topology, { result: 'staged', running: oldHash, staged: newHash })
    t.is(agent.topology.hash, oldHash, 'the running topology stays until the switch')
    t.is(agent.config.topologyFile, cluster.configs.get(agent.host)!.topologyFile, 'the config in effect names the running file')
    stagedAt.push(agent.topology.staged!.round)
    if (i === 0) {
      // The operator's view: who has not staged it yet.
      await waitFor(() => agents.slice(1).every(a => a.view.member(agent.host)?.state?.staged?.topology === newHash), ROUNDS_MS, 'the others to hear the staging')
      const status = buildStatus(agents[1]!, 0, Date.now()).topology
      t.like(status, { hash: oldHash })
      t.is(status?.staged, undefined, 'a host that has not staged shows only what it runs')
      const mine = buildStatus(agent, 0, Date.now()).topology
      t.deepEqual(mine?.staged, { hash: newHash, round: stagedAt[0]!, missing: agents.slice(1).map(a => a.host).sort() })
      t.regex(formatStatus(buildStatus(agent, 0, Date.now())).join('\n'), /not staged on a2 b1 b2: nobody switches/)
      t.like(buildView(agents[1]!, agents[1]!.topology.topology, Date.now()).members.find(m => m.host === agent.host)?.topology, { hash: oldHash, staged: { hash: newHash, round: stagedAt[0]! } }, '/view shows who staged what')
    }
    // A round goes by between hosts, as in a rolling change.
    const next = roundAt(Date.now(), timing) + 1
    await waitFor(() => planned(next), ROUNDS_MS, `round ${next}'s plan everywhere`)
    if (i < agents.length - 1) t.true(agents.every(a => a.topology.hash === oldHash), `nobody switched with ${i + 1} of ${agents.length} staged`)
  }
  const expected = Math.max(...stagedAt) + SWITCH_AFTER_ROUNDS
  t.log(`staged in rounds ${stagedAt.join(' ')}: the switch is due at round ${expected}`)
  await waitFor(() => lines.filter(l => l.msg === 'topology switched').length === agents.length, ROUNDS_MS, 'every agent to switch')
  const switched = lines.filter(l => l.msg === 'topology switched')
  t.deepEqual(switched.map(l => l.host).sort(), agents.map(a => a.host).sort())
  for (const l of switched) t.like(l, { level: 'info', from: oldHash, to: newHash, round: expected, switchRound: expected }, `${String(l.host)} switched at the common round`)
  t.true(agents.every(a => a.topology.hash === newHash && a.topology.staged === undefined && a.config.topologyFile === file))
  t.like(buildStatus(agents[2]!, 0, Date.now()).topology, { hash: newHash })

  // Some rounds on the new topology, each with a plan everywhere.
  await waitFor(() => planned(expected + 3), ROUNDS_MS, `round ${expected + 3}'s plan everywhere`)
  const last = expected + 3
  t.log(`rounds ${first}..${last} checked (${last - first + 1})`)
  for (let r = first; r <= last; r++) {
    for (const a of agents) t.not(a.rounds.get(r)?.planner, undefined, `round ${r} on ${a.host}`)
  }
  // Every agent's view took every state: none was dropped as on another topology.
  for (const a of agents) t.is(a.view.drops['topology-mismatch'], 0, a.host)
  // Each plan's cost before its moves (the same traffic, no moves): the halved links double it.
  const cost = (from: number, to: number): number[] => {
    const out: number[] = []
    for (let r = from; r <= to; r++) { const c = agents[0]!.rounds.get(r)?.plan?.initialCost; if (c !== undefined && c > 0) out.push(c) }
    return out
  }
  const before = median(cost(first, expected - 1))
  const after = median(cost(expected, last))
  t.log(`median plan cost ${before.toFixed(4)} before the switch, ${after.toFixed(4)} after`)
  t.true(Math.abs(after / before - 2) < 0.2, `halved links double the cost: ${before} -> ${after}`)

  // A host restarted after the switch, with the new file, joins as any restart does.
  const host = 'b2'
  await cluster.agents.get(host)!.halt()
  cluster.configs.set(host, { ...cluster.configs.get(host)!, topologyFile: file })
  const restarted = await cluster.start(host)
  const back = roundAt(Date.now(), timing)
  const all = [...cluster.agents.values()]
  t.is(restarted.topology.hash, newHash)
  await waitFor(() => all.every(a => a.view.live(Date.now()).length === all.length), ROUNDS_MS, 'every agent to see the restarted host live')
  await waitFor(() => all.every(a => a.rounds.get(roundAt(Date.now(), timing) - 1)?.planner !== undefined) && roundAt(Date.now(), timing) > back + 2, ROUNDS_MS, 'a round planned everywhere after the restart')
  for (const a of all) t.is(a.view.drops['topology-mismatch'], 0, `${a.host} after the restart`)
})

test.serial('a host that never stages holds the switch back and is named; once it is down the others switch; back on the old file it is dropped with a warning until it is given the new one', async t => {
  t.timeout(600_000)
  const lines: Line[] = []
  const cluster = await startTestCluster(t, spec(topologyLog(lines)))
  const agents = [...cluster.agents.values()]
  const timing = agents[0]!.timing
  const [forgotten, ...others] = [cluster.agents.get('b2')!, ...agents.filter(a => a.host !== 'b2')]
  const planned = (as: Agent[], r: number): boolean => as.every(a => a.rounds.get(r)?.planner !== undefined)
  await waitFor(() => agents.every(a => a.view.live(Date.now()).length === agents.length), ROUNDS_MS, 'every agent to see every member live')
  const oldHash = agents[0]!.topology.hash
  const { file, hash: newHash } = await halvedTopology(cluster.dir)

  for (const agent of others) t.is((await stage(agent, cluster.dir, file)).result, 'staged', agent.host)
  const lastStaged = Math.max(...others.map(a => a.topology.staged!.round))
  // Well past the round the switch would have come at, had b2 staged too.
  await waitFor(() => planned(agents, lastStaged + 4), ROUNDS_MS, `round ${lastStaged + 4}'s plan everywhere`)
  t.true(agents.every(a => a.topology.hash === oldHash), 'nobody switched')
  for (const a of others) t.like(buildStatus(a, 0, Date.now()).topology?.staged, { hash: newHash, missing: ['b2'] })
  t.regex(formatStatus(buildStatus(others[0]!, 0, Date.now())).join('\n'), /not staged on b2: nobody switches/)

  // b2 goes down: the others stop waiting for it.
  await forgotten.halt()
  cluster.agents.delete('b2')
  await waitFor(() => others.every(a => a.topology.hash === newHash), ROUNDS_MS, 'the others to switch once b2 is down')
  const switched = lines.filter(l => l.msg === 'topology switched')
  t.deepEqual(switched.map(l => l.host).sort(), others.map(a => a.host).sort())

  // Back on the old file: each side drops the other's states, and the others say what to do.
  const back = await cluster.start('b2')
  t.is(back.topology.hash, oldHash)
  await waitFor(() => others.every(a => lines.some(l => l.msg.startsWith('topology mismatch') && l.component === a.host && l.member === 'b2' && l.theirs === oldHash)), ROUNDS_MS, 'each of the others to warn about b2')
  t.true(others.every(a => a.view.drops['topology-mismatch'] > 0 && !a.view.isUp('b2', Date.now())))
  const warning = lines.find(l => l.msg.startsWith('topology mismatch'))!
  t.is(warning.level, 'warn')
  t.regex(warning.msg, /reload it|restart it/)

  // As the warning says: given the new file and reloaded, it switches at once and plans with the others.
  t.is((await stage(back, cluster.dir, file)).result, 'staged')
  await waitFor(() => back.topology.hash === newHash, ROUNDS_MS, 'b2 to switch')
  const all = [...cluster.agents.values()]
  await waitFor(() => all.every(a => a.view.live(Date.now()).length === all.length), ROUNDS_MS, 'every agent to see b2 live again')
  const now = roundAt(Date.now(), timing)
  await waitFor(() => planned(all, now + 1), ROUNDS_MS, `round ${now + 1}'s plan everywhere`)
})
