/**
 * The tiered dissemination (docs/design.md §9.8) with real agents on [::1]:
 * six hosts in three DCs report to one aggregator per DC over direct
 * streams; nothing is flooded. The aggregators hold the whole view and
 * take turns planning; every host accepts the same plan and votes; the
 * hosts a plan moves VMs of carry them out, once.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import test from 'ava'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { AggregatorRoles } from '../../../agent/cluster/tiered/roles.ts'
import { Channels } from '../../../agent/net/channel.ts'
import { createNode, loadOrCreatePeerKey, peerKadId } from '../../../agent/net/index.ts'
import { roundAt } from '../../../lib/rounds.ts'
import { encodeEnvelope } from '../../../lib/wire/codec.ts'
import { MAX_RELAY_BYTES } from '../../../lib/wire/relay.ts'
import { startTestCluster, TEST_CLUSTER_NAME, waitFor } from './harness.ts'
import { threeDcSpec } from './scenario.ts'

test.serial('tiered: six agents in three DCs agree on one plan per round through their aggregators and carry it out once', async t => {
  const cluster = await startTestCluster(t, threeDcSpec({ roundPeriodMs: 2000, planner: { maxMoves: 4, maxMovesPerHost: 2, minGain: 0 }, dissemination: 'tiered' }))
  const agents = [...cluster.agents.values()]
  const hosts = agents.map(a => a.host)
  const timing = agents[0]!.timing
  // Generous: six agents start, find their aggregators and exchange states on a busy two-core machine.
  await waitFor(() => agents.some(a => hosts.every(h => a.view.member(h)?.digest !== undefined)), 60_000, 'an aggregator with every host\'s digest')
  const first = roundAt(Date.now(), timing) + 2
  const last = first + 9
  await waitFor(() => roundAt(Date.now(), timing) > last + 1, 60_000, '10 rounds')
  let agreed = 0
  for (let r = first; r <= last; r++) {
    const seen = agents.map(a => a.rounds.get(r)?.planner)
    const plans = agents.map(a => JSON.stringify(a.rounds.get(r)?.plan?.moves))
    if (seen[0] !== undefined && seen.every(p => p === seen[0]) && plans.every(p => p === plans[0])) agreed++
    else t.log(`round ${r} (${r % 10} of its epoch): planners ${seen.map((p, i) => `${hosts[i]}:${p ?? '-'}`).join(' ')}; rankings ${agents.map(a => `${a.host}:${(a.rounds.get(r)?.ranking ?? []).join('>')}`).join(' ')}; notes ${agents.map(a => `${a.host}:${(a.rounds.get(r)?.notes ?? []).join(';')}`).join(' ')}; reports to ${agents.map(a => `${a.host}->${a.aggregator(r) ?? '-'}`).join(' ')}; live ${agents.map(a => `${a.host}:${a.view.live(Date.now()).map(m => m.host).join(',')}`).join(' ')}`)
  }
  t.log(`planner and plan agreed on by all ${agents.length} agents in ${agreed}/10 rounds`)
  t.log(`accusations: ${agents.map(a => `${a.host}:${a.counters.aggregatorsAccused}`).join(' ')}`)
  t.true(agreed >= 8, `agreement in only ${agreed}/10 rounds`)

  // The relay counters (what bench:gossip sets beside lab model): every host
  // reported; nearly all that was sent was served (requests to an agent
  // still starting, or on their way now, were not); batches went out,
  // carrying at least an item each.
  const sum = (f: (a: typeof agents[number]) => number): number => agents.reduce((s, a) => s + f(a), 0)
  t.true(agents.every(a => a.counters.relaySent.report + a.counters.relayServed.report > 0), 'every host reported, or was reported to')
  for (const kind of ['report', 'batch', 'notice'] as const) {
    const sent = sum(a => a.counters.relaySent[kind]); const served = sum(a => a.counters.relayServed[kind])
    t.true(served <= sent && served >= 0.9 * sent, `${kind}: ${served} served of ${sent} sent`)
  }
  t.true(sum(a => a.counters.relaySent.batch) > 0)
  t.true(sum(a => a.counters.relayItemsSent.batch) >= sum(a => a.counters.relaySent.batch))

  // No move is carried out twice or by another host than its source, in
  // any round (a plan that missed its majority, as in the first rounds
  // while aggregators meet, is not carried out at all: the rule, not a
  // loss); in the measured rounds nearly every planned move runs.
  let planned = 0
  let carried = 0
  let carriedEver = 0
  for (const r of [...agents[0]!.rounds.keys()].filter(r => r <= last)) {
    for (const m of agents[0]!.rounds.get(r)?.plan?.moves ?? []) {
      const doers = agents.filter(a => a.rounds.get(r)?.outcomes.some(o => o.vm === m.vm) === true).map(a => a.host)
      t.true(doers.length === 0 || (doers.length === 1 && doers[0] === m.from), `round ${r}: ${m.vm} carried out by ${doers.join(',')}`)
      if (doers.length === 1) carriedEver++
      if (r >= first) { planned++; if (doers.length === 1) carried++ }
    }
  }
  t.log(`${carriedEver} moves carried out since the start; ${carried} of ${planned} planned in the measured rounds`)
  t.true(carriedEver > 0, 'some moves were planned and carried out')
  t.true(carried >= planned * 0.8, `only ${carried} of ${planned} moves of the measured rounds carried out`)
  const truth = await cluster.world.vms()
  t.is(truth.length, 12, 'no VM lost')
})

test.serial('tiered: an aggregator killed mid-round is taken over by its standby; the survivors keep agreeing', async t => {
  const cluster = await startTestCluster(t, threeDcSpec({ roundPeriodMs: 2000, planner: { maxMoves: 4, maxMovesPerHost: 2, minGain: 0 }, dissemination: 'tiered' }))
  const agents = [...cluster.agents.values()]
  const timing = agents[0]!.timing
  const round = (): number => roundAt(Date.now(), timing)
  await waitFor(() => agents.some(a => agents.every(b => a.view.member(b.host)?.digest !== undefined)), 60_000, 'an aggregator with every host\'s digest')
  // Kill DC A's aggregator a little into a round (while reports come in), not near an epoch's end (roles move then anyway).
  await waitFor(() => round() % 10 >= 1 && round() % 10 <= 5 && Date.now() - round() * timing.periodMs > 200, 30_000, 'a round early in an epoch')
  const killedAt = round()
  const a = agents.filter(x => x.host.startsWith('a'))
  const victim = a.find(x => x.aggregator(killedAt) === x.host) ?? a.find(x => x.host === a[0]!.aggregator(killedAt))!
  const survivor = a.find(x => x !== victim)!
  t.log(`round ${killedAt}: killing ${victim.host}, DC A's aggregator; ${survivor.host} reported to ${survivor.aggregator(killedAt) ?? '-'}`)
  await victim.halt()
  cluster.agents.delete(victim.host)
  const rest = agents.filter(x => x !== victim)

  // Within the round the survivor's next report fails over to the standby (itself, with two hosts in a DC).
  await waitFor(() => survivor.aggregator(round()) !== victim.host, 2 * timing.periodMs, 'the survivor to report to a standby')
  t.log(`${survivor.host} now reports to ${survivor.aggregator(round()) ?? '-'} (round ${round()})`)
  // The standby warms up (a round), the dead host is noticed down (three rounds), then plans are agreed again.
  const from = killedAt + 5
  const to = from + 4
  await waitFor(() => round() > to + 1, 60_000, 'the rounds after the takeover')
  let agreed = 0
  for (let r = from; r <= to; r++) {
    const seen = rest.map(x => x.rounds.get(r)?.planner)
    if (seen[0] !== undefined && seen.every(p => p === seen[0])) agreed++
    else t.log(`round ${r}: planners ${rest.map((x, i) => `${x.host}:${seen[i] ?? '-'}`).join(' ')}; reports to ${rest.map(x => `${x.host}->${x.aggregator(r) ?? '-'}`).join(' ')}`)
  }
  t.log(`after the kill, the ${rest.length} survivors agreed on the plan in ${agreed}/5 rounds`)
  t.true(agreed >= 4, `agreement in only ${agreed}/5 rounds after the takeover`)
  t.false(rest.some(x => (x.rounds.get(to)?.ranking ?? []).includes(victim.host)), 'the dead aggregator is no planner candidate')
})

test.serial('tiered: a relayed item its author did not sign is dropped and counted: an aggregator can neither invent nor alter a host\'s traffic', async t => {
  const cluster = await startTestCluster(t, threeDcSpec({ roundPeriodMs: 2000, dissemination: 'tiered', extraMembers: ['mallory'] }))
  const agents = [...cluster.agents.values()]
  const timing = agents[0]!.timing
  await waitFor(() => agents.some(a => agents.every(b => a.view.member(b.host)?.digest !== undefined)), 60_000, 'an aggregator with every host\'s digest')
  const target = agents.find(a => agents.every(b => a.view.member(b.host)?.digest !== undefined))!
  // A host with a VM to invent traffic for (plans may have moved some hosts' VMs away).
  const victim = agents.find(a => a !== target && (target.view.member(a.host)?.state?.vms.length ?? 0) > 0)!
  const key = await loadOrCreatePeerKey(join(cluster.dir, 'mallory'))
  const node = await createNode({ cluster: TEST_CLUSTER_NAME, privateKey: key.key, psk: await readFile(join(cluster.dir, 'psk')), allow: () => true, listen: ['/ip6/::1/tcp/0'], bootstrap: cluster.bootstrap })
  t.teardown(async () => node.stop())
  await node.libp2p.dial(multiaddr(target.addresses()[0]!))
  // Mallory speaks the relay protocol as an aggregator would (a kept stream, channel.ts).
  const channel = new Channels(node, node.protocol('relay', '2.0.0'), () => 'unused', { maxBytes: MAX_RELAY_BYTES, timeoutMs: 10_000 })
  t.teardown(async () => { await channel.stop() })
  const round = roundAt(Date.now(), timing)
  const epoch = Math.floor(round / 10)
  const send = async (items: Array<{ e: Uint8Array, s: Uint8Array }>): Promise<unknown> => await channel.request(target.peerId, { kind: 'batch', epoch, items })

  // Invented: the victim's digest with traffic it never reported, signed by mallory.
  const vm = target.view.member(victim.host)!.state!.vms[0]!.id
  const invented = encodeEnvelope({ v: 1, topic: 'traffic', host: victim.host, round, seq: Date.now() * 1000 + 999_999, body: { windowMs: 1000, vms: [{ vm, peers: [{ peer: vm === 'app0-0' ? 'app0-1' : 'app0-0', out: 9e9, in: 0 }], restOut: 0 }] } })
  const before = target.view.drops['bad-signature']
  t.like(await send([{ e: invented, s: await key.key.sign(invented) }]), { accepted: 0, dropped: 1 })
  t.is(target.view.drops['bad-signature'], before + 1)
  t.false(JSON.stringify(target.view.member(victim.host)!.digest).includes('9000000000'), `the invented rate is not in the view`)

  // Altered: mallory's own authentic message with one byte changed on the way.
  const own = encodeEnvelope({ v: 1, topic: 'event', host: 'mallory', round, seq: Date.now() * 1000, body: { kind: 'takeover', detail: 'xxxxxxxx' } })
  const sig = await key.key.sign(own)
  const altered = own.slice()
  // In the detail text, so it still decodes: only the signature can tell.
  altered[altered.indexOf('x'.charCodeAt(0))] = 'y'.charCodeAt(0)
  t.like(await send([{ e: altered, s: sig }]), { accepted: 0, dropped: 1 })
  t.is(target.view.drops['bad-signature'], before + 2)

  // The same message unaltered passes: the check tells the two apart.
  t.like(await send([{ e: own, s: sig }]), { accepted: 1, dropped: 0 })
})

/** DC A's aggregator roles, were its members these keys. */
function rolesOf (keys: Record<string, PrivateKey>): AggregatorRoles {
  return new AggregatorRoles(TEST_CLUSTER_NAME, Object.entries(keys).map(([host, k]) => ({ host, dc: 'A', peerId: peerIdFromPrivateKey(k).toString() })))
}

test.serial('tiered: an aggregator that takes reports and never passes them on is caught by its hosts\' audits; they report to the next rank and their traffic reaches the other DCs again', async t => {
  // Mallory, a member of DC A that runs no agent, answers every report
  // "accepted" and passes nothing on, and answers every audit as holding
  // every digest: it hides only its own DC's. (An auditor answering "none",
  // as mallory did before, can make another DC's host leave its honest
  // aggregator when a third DC is slow too: a cost the design accepts,
  // docs/design.md §9.8, and what a loaded CI run saw.) Its key is drawn so that it ranks
  // first in DC A in about half of all epochs: the first bit of its Kademlia
  // id differs from a1's and a2's (they share theirs), so it is nearest to
  // every epoch's key whose first bit is its own (XOR ranking, lib/election.ts).
  const periodMs = 2000
  const topBit = (k: PrivateKey): number => peerKadId(peerIdFromPrivateKey(k).toString())[0]! >> 7
  const drawWithTopBit = async (bit: number): Promise<PrivateKey> => {
    for (;;) { const k = await generateKeyPair('Ed25519'); if (topBit(k) === bit) return k }
  }
  const keys = { a1: await drawWithTopBit(0), a2: await drawWithTopBit(0), mallory: await drawWithTopBit(1) }
  const mallory = keys.mallory
  const cluster = await startTestCluster(t, threeDcSpec({ roundPeriodMs: periodMs, dissemination: 'tiered', extraMembers: ['mallory'], keys }))
  const agents = [...cluster.agents.values()]
  const timing = agents[0]!.timing
  const round = (): number => roundAt(Date.now(), timing)
  const a = agents.filter(x => x.host.startsWith('a'))
  const node = await createNode({ cluster: TEST_CLUSTER_NAME, privateKey: mallory, psk: await readFile(join(cluster.dir, 'psk')), allow: () => true, listen: ['/ip6/::1/tcp/0'], bootstrap: cluster.bootstrap })
  t.teardown(async () => node.stop())
  const swallowed = new Map<string, number>()
  const channel = new Channels(node, node.protocol('relay', '2.0.0'), async (body, ctx) => {
    const msg = body as { kind: string, items: unknown[] }
    if (msg.kind === 'report') swallowed.set(ctx.peer, (swallowed.get(ctx.peer) ?? 0) + msg.items.length)
    return { accepted: msg.items.length, dropped: 0, fresh: false, ...(msg.kind === 'audit' ? { held: Number.MAX_SAFE_INTEGER } : {}) }
  }, { maxBytes: MAX_RELAY_BYTES, timeoutMs: 10_000 })
  await channel.start()
  t.teardown(async () => { await channel.stop() })
  for (const x of a) await node.libp2p.dial(multiaddr(x.addresses()[0]!))
  await waitFor(() => agents.some(x => agents.every(y => x.view.member(y.host)?.digest !== undefined)), 60_000, 'an aggregator with every host\'s digest')

  // The first epoch mallory ranks first in that starts a round from now or later.
  let epoch = Math.floor((round() + 1) / 10) + 1
  while (rolesOf(keys).ofDc('A', epoch)[0] !== 'mallory') epoch++
  await waitFor(() => round() >= epoch * 10, (epoch * 10 - round() + 2) * periodMs, `epoch ${epoch}, mallory's`)
  // DC A's hosts may have caught mallory already (it ranked first in some epoch while the cluster started).
  // The other DCs' hosts are held to no accusation from mallory's epoch on: before it, while the
  // aggregators' relays were still being dialled on a loaded machine, two audits in a row from two DCs
  // can miss a digest that is only late (a CI run saw one such accusation: the cost §9.8 accepts).
  const others = agents.filter(x => !a.includes(x))
  const othersBefore = others.map(x => x.counters.aggregatorsAccused)
  if (othersBefore.some(n => n > 0)) t.log(`accusations by other DCs' hosts before mallory's epoch: ${othersBefore.join(' ')}`)
  const before = new Map(a.map(x => [x.host, x.counters.aggregatorsAccused]))
  const watcher = agents.find(x => !x.host.startsWith('a') && x.aggregator(round()) === x.host)!
  const seqAtStart = new Map(a.map(x => [x.host, watcher.view.member(x.host)?.seq.traffic ?? -1]))
  t.log(`epoch ${epoch}: a1 and a2 report to ${a.map(x => x.aggregator(round())).join(', ')}; ${watcher.host} watches their digests`)

  // Caught within the epoch: two audits in a row find the digests missing at another DC's aggregator.
  await waitFor(() => a.every(x => x.counters.aggregatorsAccused > before.get(x.host)!), 8 * periodMs, 'a1 and a2 to accuse mallory')
  const caughtAt = round()
  t.log(`both accused mallory in round ${caughtAt - epoch * 10} of the epoch; it swallowed ${[...swallowed.values()].reduce((s, n) => s + n, 0)} items`)
  t.true(swallowed.size >= 1, 'the hosts did report to mallory first')
  t.true(a.every(x => x.aggregator(round()) !== 'mallory'), 'they report to the next rank now')
  // And their traffic flows again: the other DC's aggregator gets digests newer than any before the epoch.
  // The deadline is the rest of mallory's epoch, which is what the test claims (3 rounds flaked in CI
  // on a loaded machine, where each round's planner also spends up to half a second annealing).
  await waitFor(() => a.every(x => (watcher.view.member(x.host)?.seq.traffic ?? -1) > seqAtStart.get(x.host)! && watcher.view.isUp(x.host, Date.now())), Math.max(3, (epoch + 1) * 10 - round()) * periodMs, `${watcher.host} to get a1's and a2's digests again`)
  t.true(round() < (epoch + 1) * 10, 'all within mallory\'s epoch')
  t.deepEqual(others.map(x => x.counters.aggregatorsAccused), othersBefore, 'no honest aggregator accused in mallory\'s epoch')
})
