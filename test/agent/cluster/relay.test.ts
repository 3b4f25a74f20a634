/**
 * Two real Relays (agent/cluster/tiered/relay.ts), DC A's aggregator and
 * DC B's, wired to each other in process: what one aggregator's batches
 * carry to the other. The view behind each relay is a recorder of what
 * reached it (the view's own rules are tested with the view); the network
 * is a function call (channel.ts and the mesh tests cover the wire).
 */
import test from 'ava'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'
import { Relay, type RelayComponents } from '../../../agent/cluster/tiered/relay.ts'
import { AggregatorRoles } from '../../../agent/cluster/tiered/roles.ts'
import { Signer, Verifier } from '../../../agent/cluster/tiered/signing.ts'
import { encodeEnvelope } from '../../../lib/wire/codec.ts'
import type { Envelope } from '../../../lib/wire/messages.ts'
import type { RelayAnswer, RelayMessage } from '../../../lib/wire/relay.ts'
import type { Logger } from '../../../agent/log.ts'

const quiet: Logger = { debug () {}, info () {}, warn () {}, error () {}, child () { return quiet } } as unknown as Logger

interface Host { name: string, dc: string, key: PrivateKey, signer: Signer }

async function host (name: string, dc: string): Promise<Host> {
  const key = await generateKeyPair('Ed25519')
  return { name, dc, key, signer: new Signer(key) }
}

let seq = 1
function state (h: Host, round: number, vms: string[]): Envelope<'host'> {
  return { v: 1, topic: 'host', host: h.name, round, seq: seq++, body: { dc: h.dc, memoryMiB: 4096, vcpus: 4, address: 'fd00::1', topology: 't', leaving: false, vms: vms.map(id => ({ id, addresses: ['fd00::10'], memoryMiB: 512, vcpus: 1, pinned: false, migrating: false })) } }
}
function digest (h: Host, round: number, vm: string): Envelope<'traffic'> {
  return { v: 1, topic: 'traffic', host: h.name, round, seq: seq++, body: { windowMs: 1000, vms: [{ vm, peers: [], restOut: 0 }] } }
}

/** Envelopes as they reach a relay's view, in order, and a wait for one. */
class Recorder {
  readonly got: Envelope[] = []
  private waiters: Array<{ match: (e: Envelope) => boolean, resolve: () => void }> = []
  async receive (env: Envelope): Promise<boolean> {
    this.got.push(env)
    this.waiters = this.waiters.filter(w => { if (w.match(env)) { w.resolve(); return false } return true })
    return true
  }

  countDrop (): void {}
  /** Resolves once an envelope that matches has come (at once if one already has). */
  async seen (match: (e: Envelope) => boolean): Promise<void> {
    if (this.got.some(match)) return
    await new Promise<void>(resolve => { this.waiters.push({ match, resolve }) })
  }
}

/** The tests' cluster: two hosts in each of DCs A and B, and their roles. */
async function twoDcs (): Promise<{ hosts: Host[], roles: AggregatorRoles }> {
  const hosts = [await host('a1', 'A'), await host('a2', 'A'), await host('b1', 'B'), await host('b2', 'B')]
  return { hosts, roles: new AggregatorRoles('test', hosts.map(h => ({ host: h.name, dc: h.dc, peerId: peerIdFromPrivateKey(h.key).toString() }))) }
}

/** A Relay as the tests wire it: four members, every vote counts, batches after 1 ms. */
function relayFor (c: Pick<RelayComponents, 'host' | 'roles' | 'inbound' | 'send' | 'round' | 'epoch' | 'isUp'> & Partial<Pick<RelayComponents, 'warm'>>): Relay {
  return new Relay({ verifier: new Verifier(), log: quiet, now: () => Date.now(), memberCount: 4, countsVote: () => true, batchMs: 1, heldDigest: () => -1, ...c })
}

test('an aggregator met in a new epoch gets the newest state of each of our hosts, whichever reports first, before their digests', async t => {
  const { hosts, roles } = await twoDcs()
  let round = 0
  // The epoch where these roles hold; both relays use it from the start.
  const epoch = 1
  const [aggA, client] = roles.ofDc('A', epoch).map(n => hosts.find(h => h.name === n)!)
  const aggB = roles.ofDc('B', epoch)[0]!
  const views = new Map<string, Recorder>()
  const relays = new Map<string, Relay>()
  const start = (me: string): void => {
    const view = new Recorder()
    views.set(me, view)
    relays.get(me)?.stop()
    relays.set(me, relayFor({
      host: me,
      roles,
      inbound: view,
      // The other aggregator answers; anyone else (DC A's lower ranks, when a1 is not rank 0) takes it silently.
      send: async (to: string, msg: RelayMessage): Promise<RelayAnswer> => await (relays.get(to)?.receive(msg, me) ?? Promise.resolve({ accepted: msg.items.length, dropped: 0, fresh: false })),
      round: () => round,
      epoch: () => Math.floor(round / 10),
      isUp: h => h === aggB || h === aggA!.name
    }))
  }
  start(aggA!.name)
  start(aggB)
  t.teardown(() => { for (const r of relays.values()) r.stop() })
  const relayA = relays.get(aggA!.name)!
  let viewB = views.get(aggB)!
  const report = async (from: Host, env: Envelope): Promise<void> => {
    await relayA.receive({ kind: 'report', epoch: Math.floor(round / 10), items: [from.signer.sign(encodeEnvelope(env))] }, from.name)
  }

  // Epoch 0: both hosts report a state; then a migration gives the aggregator a VM (a new state).
  round = 5
  await report(client!, state(client!, round, ['v2']))
  const stateA = state(aggA!, round, ['v1', 'moved-in'])
  await report(aggA!, stateA)
  await viewB.seen(e => e.seq === stateA.seq)

  // Epoch 1: DC B's aggregator starts afresh (as one that did not aggregate in epoch 0 would: its view is stale).
  round = 10
  start(aggB)
  viewB = views.get(aggB)!
  // The client reports first: A's first batch of the epoch goes before A's own report.
  const d2 = digest(client!, round, 'v2')
  await report(client!, d2)
  // Both the digest and the client's state (the first batch's) are in before the aggregator reports.
  await viewB.seen(e => e.seq === d2.seq)
  await viewB.seen(e => e.topic === 'host' && e.host === client!.name)
  const d1 = digest(aggA!, round, 'moved-in')
  await report(aggA!, d1)
  await viewB.seen(e => e.seq === d1.seq)

  const arrived = viewB.got.map(e => `${e.host}/${e.topic}`)
  t.log(`B got in epoch 1: ${arrived.join(' ')}`)
  const stateAt = viewB.got.findIndex(e => e.topic === 'host' && e.host === aggA!.name)
  t.true(stateAt >= 0, `${aggA!.name}'s newest state reached B in the new epoch (without it B drops the digests naming moved-in)`)
  t.is(viewB.got[stateAt]?.seq, stateA.seq, 'the newest state, not an older one')
  t.true(stateAt < viewB.got.findIndex(e => e.seq === d1.seq), 'the state came before the digest that names its VM')
  t.true(viewB.got.some(e => e.topic === 'host' && e.host === client!.name), 'the client\'s state too')
  // Each state once in the epoch: the ledger keeps them from going again with every batch.
  const d3 = digest(aggA!, round, 'v1')
  await report(aggA!, d3)
  await viewB.seen(e => e.seq === d3.seq)
  t.is(viewB.got.filter(e => e.topic === 'host').length, 2)
})

test('a plan its aggregator made goes to the other DCs\' aggregators before the aggregator\'s own hosts are told: they have a DC each to pass it to', async t => {
  const { hosts, roles } = await twoDcs()
  const round = 12
  const epoch = 1
  const [aggA, client] = roles.ofDc('A', epoch).map(n => hosts.find(h => h.name === n)!)
  const aggB = roles.ofDc('B', epoch)[0]!
  const viewB = new Recorder()
  const sent: string[] = []
  const relayB = relayFor({
    host: aggB, roles, inbound: viewB, round: () => round, epoch: () => epoch, isUp: () => true,
    send: async (_to, msg) => ({ accepted: msg.items.length, dropped: 0, fresh: false })
  })
  const relayA = relayFor({
    host: aggA!.name, roles, inbound: new Recorder(), round: () => round, epoch: () => epoch, isUp: () => true,
    send: async (to, msg) => {
      sent.push(`${msg.kind}->${to}`)
      return to === aggB ? await relayB.receive(msg, aggA!.name) : { accepted: msg.items.length, dropped: 0, fresh: false }
    }
  })
  t.teardown(() => { relayA.stop(); relayB.stop() })
  // The client reports (so it hears of plans), and that batch has gone.
  const s = state(client!, round, ['v2'])
  await relayA.receive({ kind: 'report', epoch, items: [client!.signer.sign(encodeEnvelope(s))] }, client!.name)
  await viewB.seen(e => e.seq === s.seq)
  sent.length = 0

  const plan: Envelope<'plan'> = { v: 1, topic: 'plan', host: aggA!.name, round, seq: seq++, body: { rank: 0, planner: aggA!.name, inputs: {}, initialCost: 10, finalCost: 5, moves: [] } }
  await relayA.receive({ kind: 'report', epoch, items: [aggA!.signer.sign(encodeEnvelope(plan))] }, aggA!.name)
  await viewB.seen(e => e.seq === plan.seq)
  t.deepEqual(sent, [`batch->${aggB}`, `notice->${client!.name}`])
})

test('a standby that sent us a batch gets ours while it aggregates, this round and the next, and then no more', async t => {
  const { hosts, roles } = await twoDcs()
  let round = 12
  const epoch = 1
  const [aggA, client] = roles.ofDc('A', epoch).map(n => hosts.find(h => h.name === n)!)
  const [aggB, standbyB] = roles.ofDc('B', epoch).map(n => hosts.find(h => h.name === n)!)
  const to: string[] = []
  const relayA = relayFor({
    host: aggA!.name, roles, inbound: new Recorder(), round: () => round, epoch: () => epoch, isUp: () => true,
    send: async (target, msg) => { if (msg.kind === 'batch') to.push(target); return { accepted: msg.items.length, dropped: 0, fresh: false } }
  })
  t.teardown(() => { relayA.stop() })
  /** Our client reports a digest; resolves once its batch has gone, with where it went. */
  const batchTargets = async (): Promise<string[]> => {
    to.length = 0
    await relayA.receive({ kind: 'report', epoch, items: [client!.signer.sign(encodeEnvelope(digest(client!, round, 'v2')))] }, client!.name)
    while (to.length === 0) await new Promise(resolve => setTimeout(resolve, 5))
    await new Promise(resolve => setTimeout(resolve, 20))
    return [...to].sort()
  }
  t.deepEqual(await batchTargets(), [aggB!.name], 'DC B\'s rank 0 alone, before anyone else aggregates there')
  // One of B's hosts found its rank 0 slow and reported to the standby, which passes its items on to us.
  const fromStandby = await relayA.receive({ kind: 'batch', epoch, items: [standbyB!.signer.sign(encodeEnvelope(digest(standbyB!, round, 'v9')))] }, standbyB!.name)
  t.true(fromStandby.fresh, 'we had not heard from it: it must send us its hosts\' states')
  t.deepEqual(await batchTargets(), [aggB!.name, standbyB!.name].sort())
  round = 13
  t.deepEqual(await batchTargets(), [aggB!.name, standbyB!.name].sort(), 'still, the round after')
  round = 14
  t.deepEqual(await batchTargets(), [aggB!.name], 'it sent nothing for a round: it no longer aggregates')
})

test('an aggregator opens the stream to a host at its first report of an epoch, not when the plan must go out; once per host and epoch', async t => {
  const { hosts, roles } = await twoDcs()
  const round = 12
  let epoch = 1
  const [aggA, client] = roles.ofDc('A', epoch).map(n => hosts.find(h => h.name === n)!)
  const warmed: string[] = []
  const relayA = relayFor({
    host: aggA!.name, roles, inbound: new Recorder(), round: () => round, epoch: () => epoch, isUp: () => true,
    send: async (_to, msg) => ({ accepted: msg.items.length, dropped: 0, fresh: false }),
    warm: host => { warmed.push(host) }
  })
  t.teardown(() => { relayA.stop() })
  const report = async (h: Host): Promise<void> => {
    await relayA.receive({ kind: 'report', epoch, items: [h.signer.sign(encodeEnvelope(digest(h, round, 'v2')))] }, h.name)
  }
  await report(client!)
  await report(client!)
  await report(aggA!)
  t.deepEqual(warmed, [client!.name], 'the client once; never ourselves')
  epoch = 2
  await report(client!)
  t.deepEqual(warmed, [client!.name, client!.name], 'again in a new epoch (a new aggregator may hold no stream to it)')
})
