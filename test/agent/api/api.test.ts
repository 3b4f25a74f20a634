/**
 * The local API against a small mesh of real agents: three agents (one per
 * DC) with their APIs on [::1], plus a member that runs no agent and sends
 * bad messages, so there is something to drop. One mesh for the whole file.
 */
import test from 'ava'
import { spawn } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { request } from 'node:http'
import { join } from 'node:path'
import { encode } from 'cborg'
import parsePrometheusTextFormat, { type ParsedFamily } from 'parse-prometheus-text-format'
import { ApiClient, parseApiAddress } from '../../../agent/api/client.ts'
import { agentMode } from '../../../agent/api/status.ts'
import type { PlanResponse, RoundsResponse, StatusResponse, StreamEvent, ViewResponse } from '../../../agent/api/types.ts'
import { createNode, loadOrCreatePeerKey, publish, waitForTopicPeers, type ClusterNode } from '../../../agent/net/index.ts'
import { DROP_REASONS } from '../../../lib/view.ts'
import { REFUSAL_REASONS } from '../../../agent/migrate-protocol.ts'
import { roundAt } from '../../../lib/rounds.ts'
import { encodeEnvelope } from '../../../lib/wire/codec.ts'
import { RELAY_KINDS, type RelayKind } from '../../../lib/wire/relay.ts'
import { TOPICS, type Envelope } from '../../../lib/wire/messages.ts'
import { waitFor } from '../mesh/harness.ts'
import { MESH_DCS, startApiMesh, type ApiMesh } from './mesh.ts'
import { keyFingerprint } from '../../../agent/net/keys.ts'

const BIN = new URL('../../../agent/bin/heliotrope.js', import.meta.url).pathname
const ROGUE = 'rogue'
let mesh: ApiMesh
let rogue: ClusterNode | undefined

test.before(async () => {
  mesh = await startApiMesh([ROGUE])
})

test.after.always(async () => {
  await rogue?.stop().catch(() => undefined)
  await mesh?.close()
})

const base = (host: string): string => `http://${mesh.apis.get(host)!.address}`
const getJson = async <T> (host: string, path: string): Promise<T> => {
  const res = await fetch(base(host) + path)
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${await res.text()}`)
  return await res.json() as T
}
const hosts = (): string[] => MESH_DCS.map(d => d.toLowerCase())

test.serial('/status: who the agent is, the round, its planner, live members, each topic\'s mesh peers, uptime', async t => {
  // Grafts happen on gossipsub's heartbeat: wait until every agent meshes every topic.
  await waitFor(async () => {
    for (const host of hosts()) {
      const peers = (await getJson<StatusResponse>(host, '/status')).mesh
      if (peers === undefined || TOPICS.some(topic => peers[topic].length === 0)) return false
    }
    return true
  }, 20_000, 'a mesh peer on every topic at every agent')
  for (const host of hosts()) {
    const agent = mesh.cluster.agents.get(host)!
    const s = await getJson<StatusResponse>(host, '/status')
    t.is(s.host, host)
    t.is(s.peerId, agent.peerId)
    t.is(s.dc, host.toUpperCase())
    t.is(s.cluster, agent.config.cluster)
    t.true(Math.abs(s.round - roundAt(Date.now(), agent.timing)) <= 1)
    t.is(s.mode, agentMode(agent))
    t.deepEqual(s.members, { total: 4, live: 3, down: 1, leaving: 0, draining: 0 })
    t.true(s.planner.host !== undefined && hosts().includes(s.planner.host), `planner ${s.planner.host}`)
    t.deepEqual([...s.candidates].sort(), hosts(), 'the live members are the candidates')
    t.true(s.uptimeMs > 0 && s.roundElapsedMs >= 0 && s.roundElapsedMs < s.roundPeriodMs)
    t.deepEqual(Object.keys(s.mesh ?? {}).sort(), [...TOPICS].sort())
    t.is(s.controlSocket, agent.config.controlSocket, 'where a command given only this API sends changes')
    t.deepEqual(s.clusterKeys, agent.node.keyring.keys.map(keyFingerprint))
    t.is(s.clusterKeys!.length, 1)
    for (const topic of TOPICS) {
      const peers = s.mesh![topic]
      t.true(peers.length > 0, `${host} has mesh peers on ${topic}`)
      // Each is another agent, named by its host (no observer or stranger here yet).
      for (const p of peers) {
        t.true(p.host !== undefined && p.host !== host && hosts().includes(p.host), `${host}'s mesh peer on ${topic}: ${JSON.stringify(p)}`)
        t.is(p.peerId, mesh.cluster.agents.get(p.host!)!.peerId)
      }
    }
    t.log(`${host}: mesh ${TOPICS.map(topic => `${topic}=${s.mesh![topic].map(p => p.host).join('+')}`).join(' ')}`)
  }
})

test.serial('/view: members with DC, VMs, last seen, up/down and digests; WAN link loads and cost', async t => {
  const v = await getJson<ViewResponse>('a', '/view')
  t.deepEqual(v.members.map(m => m.host), ['a', 'b', 'c', ROGUE])
  const world = await mesh.cluster.world.vms()
  for (const m of v.members.filter(x => x.host !== ROGUE)) {
    t.is(m.status, 'up')
    t.is(m.dc, m.host.toUpperCase())
    t.true(m.agoMs !== undefined && m.agoMs < 5000, `${m.host} last seen ${m.agoMs} ms ago`)
    t.true(m.digest !== undefined, `${m.host} has a digest`)
    t.is(m.self, m.host === 'a')
    t.is(m.capacity?.memoryMiB, 4096)
  }
  const rogueView = v.members.find(m => m.host === ROGUE)!
  t.is(rogueView.status, 'down')
  t.is(rogueView.agoMs, undefined, 'never heard from')
  // The VMs the view lists are the world's, each once (migrations may be mid-flight: wait for a quiet view).
  await waitFor(async () => {
    const now = await getJson<ViewResponse>('a', '/view')
    const listed = now.members.flatMap(m => m.vms.map(x => `${x.id}@${m.host}`)).sort()
    const truth = (await mesh.cluster.world.vms()).map(x => `${x.id}@${x.host}`).sort()
    return JSON.stringify(listed) === JSON.stringify(truth)
  }, 10_000, 'the view to list the world\'s VMs')
  t.is(world.length, 6)
  t.is(v.links.length, 6)
  for (const l of v.links) t.true(l.capacityBps === 1e9 && l.loadBps >= 0 && Math.abs(l.utilization - l.loadBps / l.capacityBps) < 1e-12)
  t.true(typeof v.cost === 'number')
  t.deepEqual(Object.keys(v.drops).sort(), [...DROP_REASONS].sort())
})

test.serial('/rounds: the same planner on every agent, the plan, cost before and after, and why each VM moved', async t => {
  // The first rounds bring each application together: wait for a round with moves, carried out.
  await waitFor(async () => (await getJson<RoundsResponse>('a', '/rounds?limit=64')).rounds.some(r => r.moves.length > 0 && r.round < roundAt(Date.now(), mesh.cluster.agents.get('a')!.timing)), 20_000, 'a finished round with moves')
  const all = new Map<string, RoundsResponse>()
  for (const host of hosts()) all.set(host, await getJson<RoundsResponse>(host, '/rounds?limit=64'))
  const withMoves = all.get('a')!.rounds.find(r => r.moves.length > 0)
  t.truthy(withMoves, 'a round with moves')
  const round = withMoves!.round
  const views = hosts().map(h => all.get(h)!.rounds.find(r => r.round === round)!)
  t.true(views.every(r => r.planner === withMoves!.planner), `one planner for round ${round}: ${views.map(r => r.planner).join(',')}`)
  t.true(views.every(r => JSON.stringify(r.moves.map(m => [m.vm, m.from, m.to, m.cost])) === JSON.stringify(withMoves!.moves.map(m => [m.vm, m.from, m.to, m.cost]))))
  t.true(withMoves!.costAfter! < withMoves!.costBefore!, 'the plan lowers the cost')
  // As the election accepts a plan: its planner ranks no lower than it claims.
  for (const r of views) t.true(r.ranking.includes(r.planner!) && r.ranking.indexOf(r.planner!) <= r.rank!, `round ${round}: planner ${r.planner} at rank ${r.rank} in ${r.ranking.join('>')}`)

  const planner = withMoves!.planner!
  const own = all.get(planner)!.rounds.find(r => r.round === round)!
  t.true(own.plannedHere)
  t.truthy(own.stopped)
  t.is(own.verdict, 'run', 'the safety controls let the plan run')
  t.true(typeof own.planMs === 'number')
  const local = mesh.cluster.agents.get(planner)!.rounds.get(round)!.planned!
  own.moves.forEach((m, i) => {
    t.is(m.gain, local.moves[i]!.gain, 'the planner explains with its own Plan')
    t.is(m.relieves, local.moves[i]!.relieves)
    t.regex(m.why, /cost \d\.\d{4} -> \d\.\d{4} \(gain /)
  })
  t.true(own.moves.some(m => m.relieves !== undefined && /^[ABC]->[ABC]$/.test(m.relieves)), 'a move names the link it relieves')
  for (const other of hosts().filter(h => h !== planner)) {
    const r = all.get(other)!.rounds.find(x => x.round === round)!
    t.false(r.plannedHere)
    t.is(r.verdict, undefined, 'only the planner knows what its controls decided')
    let before = r.costBefore!
    for (const m of r.moves) {
      t.true(Math.abs(m.gain - (before - m.cost)) < 1e-12, 'elsewhere the gain is the cost drop between moves')
      t.is(m.relieves, undefined)
      t.truthy(m.fromDc)
      t.truthy(m.toDc)
      before = m.cost
    }
  }
  // Moves were carried out by their source hosts, and the outcomes show where they ran.
  await waitFor(async () => (await getJson<RoundsResponse>(withMoves!.moves[0]!.from, '/rounds?limit=64')).rounds.find(r => r.round === round)!.outcomes.length > 0, 10_000, 'outcomes')
  const src = (await getJson<RoundsResponse>(withMoves!.moves[0]!.from, '/rounds?limit=64')).rounds.find(r => r.round === round)!
  t.true(src.outcomes.some(o => o.vm === withMoves!.moves[0]!.vm && o.from === withMoves!.moves[0]!.from))
  t.true(src.acted, 'the source says it acted on the round\'s plan')
})

async function startRogue (): Promise<ClusterNode> {
  const key = await loadOrCreatePeerKey(join(mesh.cluster.dir, ROGUE))
  const node = await createNode({
    cluster: mesh.cluster.configs.get('a')!.cluster,
    privateKey: key.key,
    psk: await readFile(join(mesh.cluster.dir, 'psk')),
    allow: () => true,
    listen: ['/ip6/::1/tcp/0'],
    bootstrap: mesh.cluster.bootstrap,
    gossip: { ipColocationFactorWeight: 0 }
  })
  await node.bootstrap()
  for (const topic of ['host', 'traffic']) node.libp2p.services.pubsub.subscribe(node.topic(topic))
  await waitForTopicPeers(node, node.topic('traffic'), 2)
  return node
}

test.serial('/events streams gossip, publishes, plans and drops with reasons; /view and /metrics count the drops', async t => {
  const client = new ApiClient(parseApiAddress(mesh.apis.get('a')!.address))
  const abort = new AbortController()
  const seen: StreamEvent[] = []
  const reading = (async () => { for await (const e of client.events({}, abort.signal)) seen.push(e) })()
  t.teardown(() => abort.abort())
  await waitFor(() => seen.some(e => e.type === 'hello'), 5000, 'hello')
  rogue = await startRogue()
  const agent = mesh.cluster.agents.get('a')!
  const round = roundAt(Date.now(), agent.timing)
  let seq = Date.now() * 1000
  const state = agent.view.member('a')!.state!
  // Speaking for another host, and reporting traffic for VMs it does not hold.
  await publish(rogue, rogue.topic('host'), encodeEnvelope({ v: 1, topic: 'host', host: 'a', round, seq: ++seq, body: { ...state, vms: [] } }))
  await publish(rogue, rogue.topic('traffic'), encodeEnvelope({ v: 1, topic: 'traffic', host: ROGUE, round, seq: ++seq, body: { windowMs: 1000, vms: [{ vm: 'app0-0', peers: [], restOut: 0 }] } } satisfies Envelope<'traffic'>))
  // Past the envelope bound.
  await publish(rogue, rogue.topic('host'), encode({ v: 1, topic: 'host', host: ROGUE, round, seq: ++seq, pad: 'x'.repeat(300_000) }))
  const reasons = ['impersonation', 'foreign-vm', 'oversized']
  await waitFor(() => reasons.every(r => seen.some(e => e.type === 'drop' && e.reason === r)), 15_000, `drop events for ${reasons.join(', ')}`)
  // Plans go out only from the round's planner, one of three agents drawn per
  // 1.5 s round: a alone must both plan and hear another plan, which takes a
  // handful of rounds by chance, more when the CPU is busy and rounds slip.
  await waitFor(() => seen.some(e => e.type === 'plan-accepted') && TOPICS.filter(x => x !== 'event').every(topic => seen.some(e => e.type === 'gossip' && e.topic === topic) && seen.some(e => e.type === 'published' && e.topic === topic)), 45_000, 'gossip in and out on every topic')
  const gossip = seen.find((e): e is Extract<StreamEvent, { type: 'gossip' }> => e.type === 'gossip' && e.topic === 'host')!
  t.is(typeof (gossip.env.body as { dc: string }).dc, 'string', 'gossip events carry the decoded message')
  const drop = seen.find((e): e is Extract<StreamEvent, { type: 'drop' }> => e.type === 'drop' && e.reason === 'impersonation')!
  t.is(drop.peer, rogue.peerId)
  abort.abort()
  await reading

  const view = await getJson<ViewResponse>('a', '/view')
  for (const r of reasons) t.true((view.drops[r] ?? 0) >= 1, `${r} counted in /view`)
  const fams = parsePrometheusTextFormat(await (await fetch(base('a') + '/metrics')).text())
  const dropped = family(fams, 'heliotrope_messages_dropped_total')
  for (const r of reasons) t.is(Number(dropped.metrics.find(m => m.labels?.reason === r)?.value), agent.view.drops[r as keyof typeof agent.view.drops])
})

test.serial('/events: server-sent events on request, filters by type and topic, bad filters are 400', async t => {
  const res = await fetch(base('b') + '/events?types=published&topics=host', { headers: { accept: 'text/event-stream' } })
  t.is(res.headers.get('content-type'), 'text/event-stream; charset=utf-8')
  const reader = res.body!.getReader()
  let text = ''
  const until = Date.now() + 10_000
  while (!/event: published\ndata: .*"topic":"host"/.test(text) && Date.now() < until) {
    const { value, done } = await reader.read()
    if (done) break
    text += new TextDecoder().decode(value)
  }
  await reader.cancel()
  t.regex(text, /^event: hello\ndata: \{"type":"hello","host":"b"/)
  t.regex(text, /event: published\ndata: \{"type":"published","topic":"host"/)
  t.false(/"topic":"traffic"/.test(text), 'filtered by topic')
  const bad = await fetch(base('b') + '/events?types=gossip,nonsense')
  t.is(bad.status, 400)
  t.regex((await bad.json() as { error: string }).error, /types: unknown "nonsense"/)
})

function family (fams: ParsedFamily[], name: string): ParsedFamily {
  const f = fams.find(x => x.name === name)
  if (f === undefined) throw new Error(`no metric family ${name}`)
  return f
}

test.serial('/metrics: Prometheus text that a real parser reads; the numbers match the agent', async t => {
  const res = await fetch(base('c') + '/metrics')
  t.is(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8')
  const text = await res.text()
  const fams = parsePrometheusTextFormat(text)
  const agent = mesh.cluster.agents.get('c')!
  t.is(family(fams, 'heliotrope_info').metrics[0]!.labels!.peer_id, agent.peerId)
  t.is(family(fams, 'heliotrope_round').type, 'GAUGE')
  t.true(Math.abs(Number(family(fams, 'heliotrope_round').metrics[0]!.value) - roundAt(Date.now(), agent.timing)) <= 1)
  const received = family(fams, 'heliotrope_messages_received_total')
  t.is(received.type, 'COUNTER')
  t.deepEqual(received.metrics.map(m => m.labels!.topic).sort(), [...TOPICS].sort())
  for (const m of received.metrics) t.true(Number(m.value) <= agent.counters.messagesIn[m.labels!.topic as typeof TOPICS[number]], 'counters only grow')
  t.true(Number(received.metrics.find(m => m.labels!.topic === 'traffic')!.value) > 0)
  t.true(Number(family(fams, 'heliotrope_messages_published_total').metrics.find(m => m.labels!.topic === 'host')!.value) > 0)
  t.deepEqual(family(fams, 'heliotrope_messages_dropped_total').metrics.map(m => m.labels!.reason).sort(), [...DROP_REASONS].sort())
  const refused = family(fams, 'heliotrope_migrate_refused_total')
  t.deepEqual(refused.metrics.map(m => m.labels!.reason).sort(), [...REFUSAL_REASONS].sort())
  for (const m of refused.metrics) t.is(Number(m.value), agent.counters.migrateRefused[m.labels!.reason as typeof REFUSAL_REASONS[number]])
  // The relay's series are there whatever the dissemination (all zero with flooding, as here).
  const relay = family(fams, 'heliotrope_relay_requests_total')
  t.is(relay.type, 'COUNTER')
  t.is(relay.metrics.length, 2 * RELAY_KINDS.length)
  for (const m of relay.metrics) t.is(Number(m.value), agent.counters[m.labels!.direction === 'sent' ? 'relaySent' : 'relayServed'][m.labels!.kind as RelayKind])
  t.is(family(fams, 'heliotrope_relay_items_sent_total').metrics.length, RELAY_KINDS.length)
  // The sim collector attributes every byte; the series must be there for the nftables collector's full set.
  t.is(family(fams, 'heliotrope_collector_uncounted_bytes_total').type, 'COUNTER')
  t.is(Number(family(fams, 'heliotrope_collector_uncounted_bytes_total').metrics[0]!.value), agent.counters.uncountedBytes)
  const migrations = family(fams, 'heliotrope_migrations_total')
  t.deepEqual(migrations.metrics.map(m => m.labels!.outcome), ['started', 'done', 'failed'])
  t.is(Number(migrations.metrics.find(m => m.labels!.outcome === 'failed')!.value), agent.counters.migrationsFailed)
  // Migration time by outcome, and bytes sent: histograms of what the driver measured.
  const took = family(fams, 'heliotrope_migration_seconds')
  t.is(took.type, 'HISTOGRAM')
  // The parser drops a histogram's labels: its counts are read from the text.
  for (const outcome of ['done', 'failed']) {
    const count = new RegExp(`^heliotrope_migration_seconds_count\\{outcome="${outcome}"\\} (\\d+)$`, 'm').exec(text)
    t.truthy(count, `a ${outcome} series`)
    t.true(Number(count![1]) <= Number(migrations.metrics.find(x => x.labels!.outcome === outcome)!.value), 'no more timed than counted')
  }
  t.is(family(fams, 'heliotrope_migration_bytes').type, 'HISTOGRAM')
  const links = family(fams, 'heliotrope_link_load_bps')
  t.is(links.metrics.length, 6)
  t.true(links.metrics.every(m => /^[ABC]->[ABC]$/.test(m.labels!.link!) && Number(m.value) >= 0))
  t.is(family(fams, 'heliotrope_link_utilization_ratio').metrics.length, 6)
  t.true(Number(family(fams, 'heliotrope_cost').metrics[0]!.value) >= 0)
  t.deepEqual(family(fams, 'heliotrope_members').metrics.map(m => [m.labels!.state, m.value]), [['live', '3'], ['down', '1'], ['leaving', '0'], ['draining', '0']])
  // Per neighbour: what each passed on to c, and gossipsub's score of each; members named by host.
  const via = family(fams, 'heliotrope_peer_messages_received_total')
  t.is(via.type, 'COUNTER')
  const viaHosts = via.metrics.filter(m => Number(m.value) > 0).map(m => m.labels!.host)
  t.true(viaHosts.includes('a') || viaHosts.includes('b'), `messages came via a member: ${JSON.stringify(via.metrics.map(m => m.labels))}`)
  // Read after the scrape: the counters only grew since.
  for (const m of via.metrics) t.true(Number(m.value) <= (agent.counters.messagesVia.get(m.labels!.peer_id!) ?? -1), 'counted by the agent')
  const scores = family(fams, 'heliotrope_peer_score')
  t.is(scores.type, 'GAUGE')
  t.true(scores.metrics.length >= 1 && scores.metrics.every(m => Number.isFinite(Number(m.value))), 'a finite score per gossip peer')
  t.true(scores.metrics.some(m => m.labels!.host === 'a' || m.labels!.host === 'b'), 'members by host')
  t.is(Number(family(fams, 'heliotrope_cluster_keys').metrics[0]!.value), 1)
  t.is(Number(family(fams, 'heliotrope_cluster_key_refusals_total').metrics[0]!.value), 0, 'no stranger tried a connection yet')
  const meshPeers = family(fams, 'heliotrope_mesh_peers')
  t.is(meshPeers.type, 'GAUGE')
  t.deepEqual(meshPeers.metrics.map(m => m.labels!.topic).sort(), [...TOPICS].sort())
  // a and b, and on host and traffic perhaps the rogue member of the drop test.
  for (const m of meshPeers.metrics) t.true(Number(m.value) >= 1 && Number(m.value) <= 3, `mesh peers on ${m.labels!.topic}: ${m.value}`)
  // Every agent has planned some round by now (the planner changes every round); its time is a histogram.
  await waitFor(async () => {
    const h = family(parsePrometheusTextFormat(await (await fetch(base('c') + '/metrics')).text()), 'heliotrope_planning_seconds')
    return h.type === 'HISTOGRAM' && Number(h.metrics[0]!.count) > 0
  }, 20_000, 'a planning time observed at c')
  const h = family(parsePrometheusTextFormat(await (await fetch(base('c') + '/metrics')).text()), 'heliotrope_planning_seconds')
  t.is(h.metrics[0]!.buckets!['+Inf'] ?? h.metrics[0]!.count, h.metrics[0]!.count)
  t.true(Number(h.metrics[0]!.sum) > 0)
})

test.serial('/plan: the newest round\'s accepted plan, as /rounds shows it; nothing awaits approval in mode auto', async t => {
  const plan = await getJson<PlanResponse>('b', '/plan')
  t.is(plan.host, 'b')
  t.not(plan.plan, null, 'rounds have had plans by now')
  t.is(plan.awaitingApproval, null)
  const rounds = await getJson<RoundsResponse>('b', '/rounds?limit=64')
  const newest = rounds.rounds.filter(r => r.planner !== undefined).sort((x, y) => y.round - x.round)[0]!
  // A round may have turned between the two reads: then /plan's is the one before.
  t.true(plan.plan!.round === newest.round || plan.plan!.round === newest.round - 1, `/plan round ${plan.plan!.round}, /rounds newest ${newest.round}`)
  const same = rounds.rounds.find(r => r.round === plan.plan!.round)!
  t.is(plan.plan!.planner, same.planner)
  t.deepEqual(plan.plan!.moves.map(m => m.vm), same.moves.map(m => m.vm))
})

test.serial('/metrics: process and runtime series (memory, CPU, open files, event-loop delay, GC) and the operator\'s controls', async t => {
  const text = await (await fetch(base('c') + '/metrics')).text()
  const fams = parsePrometheusTextFormat(text)
  const value = (name: string): number => Number(family(fams, name).metrics[0]!.value)
  // Every agent of this test runs in this process: its figures bound the agent's.
  const rss = process.memoryUsage().rss
  t.true(value('process_resident_memory_bytes') > 10 * 2 ** 20 && value('process_resident_memory_bytes') <= 2 * rss, `rss ${value('process_resident_memory_bytes')}`)
  const cpu = process.cpuUsage()
  t.true(value('process_cpu_seconds_total') > 0 && value('process_cpu_seconds_total') <= (cpu.user + cpu.system) / 1e6)
  t.is(family(fams, 'process_cpu_seconds_total').type, 'COUNTER')
  t.true(Math.abs(value('process_start_time_seconds') - (Date.now() / 1000 - process.uptime())) < 5)
  t.true(value('process_open_fds') > 3)
  t.true(value('nodejs_heap_size_used_bytes') > 0 && value('nodejs_heap_size_used_bytes') <= value('nodejs_heap_size_total_bytes'))
  // The event loop has run since the API started: its delay is sampled (a positive figure) and ordered.
  const p50 = value('nodejs_eventloop_lag_p50_seconds'); const p99 = value('nodejs_eventloop_lag_p99_seconds'); const max = value('nodejs_eventloop_lag_max_seconds')
  t.true(p50 > 0 && p50 <= p99 && p99 <= max, `event-loop delay p50 ${p50} p99 ${p99} max ${max}`)
  // Three libp2p nodes have churned the heap since start: the GC has paused at least once.
  // parse-prometheus-text-format folds a histogram's label sets into one (it drops
  // `kind`), so the per-kind counts are read from the text itself.
  t.is(family(fams, 'nodejs_gc_duration_seconds').type, 'HISTOGRAM')
  const gcCounts = [...text.matchAll(/^nodejs_gc_duration_seconds_count\{kind="([a-z]+)"\} (\d+)$/gm)].map(m => [m[1]!, Number(m[2])] as const)
  t.true(gcCounts.length > 0 && gcCounts.every(([kind]) => ['minor', 'major', 'incremental', 'weakcb', 'other'].includes(kind)), JSON.stringify(gcCounts))
  t.true(gcCounts.reduce((n, [, c]) => n + c, 0) > 0, 'GC pauses observed')
  const agent = mesh.cluster.agents.get('c')!
  t.deepEqual(family(fams, 'heliotrope_mode').metrics.filter(m => m.value === '1').map(m => m.labels!.mode), [agent.controls.mode])
  t.is(value('heliotrope_plans_awaiting_approval'), 0)
  t.is(value('heliotrope_draining'), 0)
  t.is(value('heliotrope_pinned_vms'), (agent.controls.status() as { pinned: string[] }).pinned.length)
})

test.serial('errors: unknown path 404, writes 405, a bad limit 400, a DNS-rebinding Host header 403', async t => {
  t.is((await fetch(base('a') + '/nope')).status, 404)
  t.is((await fetch(base('a') + '/status', { method: 'POST' })).status, 405)
  const bad = await fetch(base('a') + '/rounds?limit=0')
  t.is(bad.status, 400)
  t.regex((await bad.json() as { error: string }).error, /limit: expected an integer from 1 to 64/)
  const index = await (await fetch(base('a') + '/')).json() as { endpoints: Record<string, string> }
  t.deepEqual(Object.keys(index.endpoints).sort(), ['/events', '/metrics', '/plan', '/rounds', '/status', '/view'])
  // fetch will not forge Host: use node:http.
  const { host, port } = parseApiAddress(mesh.apis.get('a')!.address)
  const status = await new Promise<number>((resolve, reject) => {
    const req = request({ host, port, path: '/status', headers: { host: `evil.example:${port}` } }, res => { res.resume(); resolve(res.statusCode ?? 0) })
    req.on('error', reject)
    req.end()
  })
  t.is(status, 403)
})

function cli (args: string[], opts: { stopWhen?: RegExp, timeoutMs?: number } = {}): Promise<{ code: number | null, out: string, err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''; let err = ''; let interrupted = false
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`timed out: ${args.join(' ')}\n${out}\n${err}`)) }, opts.timeoutMs ?? 30_000)
    // One Ctrl-C only: a second one, sent by a later chunk that matches too, kills a CLI that is already
    // shutting down (exit code null), as a user's second Ctrl-C would.
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
      if (!interrupted && opts.stopWhen?.test(out) === true) { interrupted = true; child.kill('SIGINT') }
    })
    child.stderr.on('data', (d: Buffer) => { err += d.toString() })
    child.on('exit', code => { clearTimeout(timer); resolve({ code, out, err }) })
  })
}

test.serial('CLI: status, members and monitor against a running agent; a clear error when none runs', async t => {
  const api = mesh.apis.get('b')!.address
  const [status, members, monitor, none, badAddr] = await Promise.all([
    cli(['status', '--api', api]),
    cli(['members', '--api', api]),
    cli(['monitor', '--api', api, '--type', 'gossip', '--topic', 'traffic'], { stopWhen: /in {3}traffic <- \w+ r\d+ window=/ }),
    cli(['members', '--api', '[::1]:1']),
    cli(['status', '--api', 'nowhere'])
  ])
  t.is(status.code, 0, status.err)
  t.regex(status.out, /^host {7}b {2}dc B {2}cluster /m)
  t.regex(status.out, /^members {4}3 live, 1 down, 0 draining, 0 leaving \(4 in the member list\)$/m)
  t.is(members.code, 0, members.err)
  const rows = members.out.trim().split('\n')
  t.regex(rows[0]!, /^HOST +DC +STATUS +VMS +MEMORY MiB +LAST SEEN +PEER ID$/)
  t.regex(rows.find(r => r.startsWith('b*'))!, /^b\* +B +up +\d +\d+\/4096 +[\d.]+m?s ago +12D3/)
  t.regex(rows.find(r => r.startsWith(ROGUE))!, /^rogue +\? +down +0 +- +never/)
  t.is(monitor.code, 0, monitor.err)
  t.regex(monitor.out, /connected to b \(dc B, 12D3/)
  t.false(/ out | host /.test(monitor.out.split('\n').slice(1).join('\n')), 'only gossip received on traffic')
  t.is(none.code, 1)
  t.regex(none.err, /no agent answers at \[::1\]:1 \(connection refused\); is `heliotrope agent` running\?/)
  t.is(badAddr.code, 2)
  t.regex(badAddr.err, /--api expects an address such as/)
})
