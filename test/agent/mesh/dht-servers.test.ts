/**
 * Bounded connections (docs/design.md §9.8): with `dhtServersPerDc` only
 * that many members per DC serve the DHT; the rest are clients that no
 * routing table holds and nobody dials for the DHT. Every member's address
 * comes from the member list instead of a lookup. Real agents on [::1],
 * tiered: six hosts in three DCs, one server per DC.
 */
import test from 'ava'
import { dhtPlan } from '../../../agent/cluster/dht-servers.ts'
import { createLogger } from '../../../agent/log.ts'
import type { ClusterNode } from '../../../agent/net/index.ts'
import { roundAt } from '../../../lib/rounds.ts'
import { startTestCluster, waitFor } from './harness.ts'
import { threeDcSpec } from './scenario.ts'

test.serial('one DHT server per DC: clients are in no routing table, and the cluster still agrees on its plans and carries them out', async t => {
  const nodes = new Map<string, ClusterNode>()
  const lines: string[] = []
  const cluster = await startTestCluster(t, threeDcSpec({
    log: createLogger({ level: 'warn', pretty: false, sink: { write: line => { lines.push(line) } } }),
    roundPeriodMs: 2000,
    planner: { maxMoves: 4, maxMovesPerHost: 2, minGain: 0 },
    dissemination: 'tiered',
    dhtServersPerDc: 1,
    agentOptions: host => ({ wrapNode: node => { nodes.set(host, node); return node } })
  }))
  const agents = [...cluster.agents.values()]
  const { servers } = dhtPlan(cluster.configs.get(agents[0]!.host)!)
  t.is(servers.size, 3, 'one server per DC')
  t.deepEqual(new Set([...servers].map(h => cluster.configs.get(h)!.dc)).size, 3)
  for (const [host, node] of nodes) t.is(node.libp2p.services.dht.getMode(), servers.has(host) ? 'server' : 'client', host)
  t.deepEqual(lines.filter(l => l.includes('does not listen on')), [], 'every host listens where the member list says')
  const clientPeers = new Set([...nodes].filter(([h]) => !servers.has(h)).map(([, n]) => n.peerId))

  const timing = agents[0]!.timing
  // Generous: six agents start, find their aggregators and exchange states on a busy two-core machine.
  await waitFor(() => agents.some(a => agents.every(b => a.view.member(b.host)?.digest !== undefined)), 60_000, 'an aggregator with every host\'s digest')
  const first = roundAt(Date.now(), timing) + 2
  const last = first + 5
  await waitFor(() => roundAt(Date.now(), timing) > last + 1, 60_000, '6 rounds')

  for (const [host, node] of nodes) {
    // kad-dht's public type gives the table's size only; its implementation lists the peers closest to a key.
    const rt = node.libp2p.services.dht.routingTable as unknown as { closestPeers: (key: Uint8Array, o: { count: number }) => Array<{ toString: () => string }> }
    const table = rt.closestPeers(new Uint8Array(32), { count: 1000 }).map(p => p.toString())
    t.deepEqual(table.filter(p => clientPeers.has(p)), [], `${host}'s routing table holds no client`)
    if (!servers.has(host)) t.true(table.length > 0, `${host} (a client) holds servers to ask`)
  }
  let agreed = 0
  for (let r = first; r <= last; r++) {
    const plans = agents.map(a => JSON.stringify([a.rounds.get(r)?.planner, a.rounds.get(r)?.plan?.moves]))
    if (agents[0]!.rounds.get(r)?.planner !== undefined && plans.every(p => p === plans[0])) agreed++
  }
  t.log(`planner and plan agreed on by all six in ${agreed}/6 rounds`)
  t.true(agreed >= 4, `agreement in only ${agreed}/6 rounds`)
  const carried = agents.reduce((n, a) => n + [...a.rounds.values()].reduce((m, rec) => m + rec.outcomes.filter(o => o.ok).length, 0), 0)
  t.log(`${carried} moves carried out`)
  t.true(carried > 0, 'moves were carried out: sources reached their targets by the inventory\'s addresses')
  t.is((await cluster.world.vms()).length, 12, 'no VM lost')
})
