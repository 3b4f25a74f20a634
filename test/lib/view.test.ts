import test from 'ava'
import { ReplicatedView } from '../../lib/view.ts'
import type { Envelope, HostState } from '../../lib/wire/messages.ts'
import { parseSnapshot } from '../../lib/snapshot.ts'
import { mesh } from './fixtures.ts'

const members = [{ host: 'h1', peerId: 'P1' }, { host: 'h2', peerId: 'P2' }]
const topology = { dcs: [{ id: 'A' }, { id: 'B' }], links: mesh(['A', 'B'], 1e9), prefixes: [{ id: 'web', prefix: '2001:db8::/48', dc: 'B' }] }

function state (dc: string, vms: string[], extra: Partial<HostState> = {}): HostState {
  return { dc, memoryMiB: 8192, vcpus: 8, address: 'fd00::1', topology: 't', leaving: false, vms: vms.map(id => ({ id, addresses: [], memoryMiB: 1024, vcpus: 1, pinned: false, migrating: false })), ...extra }
}
function env<T extends Envelope['topic']> (topic: T, host: string, seq: number, body: Envelope<T>['body']): Envelope {
  return { v: 1, topic, host, round: 1, seq, body } as Envelope
}

test('a member\'s messages are applied; outsiders, impersonators, replays and foreign VMs are dropped and counted', t => {
  const view = new ReplicatedView({ members, observers: ['OBS'], downAfterMs: 5000, topology: 't' })
  t.true(view.accept(env('host', 'h1', 1, state('A', ['v1'])), 'P1', 0).ok)
  t.like(view.accept(env('host', 'h1', 2, state('A', ['v1'])), 'STRANGER', 0), { ok: false, reason: 'not-member', reject: true })
  t.like(view.accept(env('host', 'h1', 2, state('A', ['v1'])), 'OBS', 0), { ok: false, reason: 'observer' })
  t.like(view.accept(env('host', 'h1', 2, state('A', [])), 'P2', 0), { ok: false, reason: 'impersonation', reject: true })
  t.like(view.accept(env('host', 'h1', 1, state('A', [])), 'P1', 0), { ok: false, reason: 'replay', reject: false })
  t.like(view.accept(env('host', 'h1', 5, state('A', [], { topology: 'other' })), 'P1', 0), { ok: false, reason: 'topology-mismatch' })
  t.like(view.accept(env('traffic', 'h1', 1, { windowMs: 1000, vms: [{ vm: 'v9', peers: [], restOut: 0 }] }), 'P1', 0), { ok: false, reason: 'foreign-vm', reject: false })
  t.deepEqual(view.member('h1')!.state!.vms.map(v => v.id), ['v1'], 'no drop changed the state')
  t.like(view.drops, { 'not-member': 1, observer: 1, impersonation: 1, replay: 1, 'topology-mismatch': 1, 'foreign-vm': 1 })
})

test('a member silent for longer than downAfterMs is down and leaves the snapshot', t => {
  const view = new ReplicatedView({ members, downAfterMs: 5000 })
  view.accept(env('host', 'h1', 1, state('A', ['v1'])), 'P1', 0)
  view.accept(env('host', 'h2', 1, state('B', ['v2'])), 'P2', 4000)
  t.deepEqual(view.live(5000).map(m => m.host), ['h1', 'h2'])
  t.deepEqual(view.live(6000).map(m => m.host), ['h2'])
  t.deepEqual(view.snapshot(topology, 6000).vms.map(v => v.id), ['v2'])
})

test('the snapshot holds live hosts, their VMs and the flows their digests report, and validates', t => {
  const view = new ReplicatedView({ members, downAfterMs: 5000 })
  view.accept(env('host', 'h1', 1, state('A', ['v1'])), 'P1', 0)
  view.accept(env('host', 'h2', 1, state('B', ['v2'], { leaving: true })), 'P2', 0)
  view.accept(env('traffic', 'h1', 2, { windowMs: 1000, vms: [{ vm: 'v1', peers: [{ peer: 'v2', out: 100, in: 0 }, { peer: 'web', out: 10, in: 50 }, { peer: 'gone', out: 1, in: 0 }], restOut: 3 }] }), 'P1', 1)
  const snap = parseSnapshot(view.snapshot(topology, 2))
  t.deepEqual(snap.flows, [{ src: 'v1', dst: 'v2', bps: 100 }, { src: 'v1', dst: 'web', bps: 10 }, { src: 'web', dst: 'v1', bps: 50 }])
  t.like(snap.hosts.find(h => h.id === 'h2'), { memoryMiB: 0, vcpus: 0 }, 'a leaving host takes no VMs')
})

test('a VM claimed by two hosts appears once, on the newer claim, pinned for the round', t => {
  const view = new ReplicatedView({ members, downAfterMs: 5000 })
  view.accept(env('host', 'h1', 1, state('A', ['v1'])), 'P1', 0)
  view.accept(env('host', 'h2', 1, state('B', ['v1'])), 'P2', 10)
  const snap = view.snapshot(topology, 20)
  t.is(snap.vms.length, 1)
  t.like(snap.vms[0], { id: 'v1', host: 'h2', pinned: true })
})

test('a draining host keeps its VMs in the snapshot, marked draining and with no room, and is no candidate', t => {
  const view = new ReplicatedView({ members, downAfterMs: 5000 })
  view.accept(env('host', 'h1', 1, state('A', ['v1'], { leaving: true, draining: true })), 'P1', 0)
  view.accept(env('host', 'h2', 1, state('B', ['v2'])), 'P2', 0)
  const snap = parseSnapshot(view.snapshot(topology, 1000))
  t.like(snap.hosts.find(h => h.id === 'h1'), { draining: true, memoryMiB: 0, vcpus: 0 })
  t.is(snap.hosts.find(h => h.id === 'h2')!.draining, undefined)
  t.deepEqual(snap.vms.map(v => v.host), ['h1', 'h2'])
  t.deepEqual(view.live(1000).map(m => m.host), ['h2'])
})

test('member lists: the view keeps each member\'s hash; only a member whose latest state carries ours agrees, and the others are listed', t => {
  const three = [...members, { host: 'h3', peerId: 'P3' }]
  const view = new ReplicatedView({ members: three, downAfterMs: 5000, topology: 't', membersHash: 'M' })
  t.true(view.accept(env('host', 'h1', 1, state('A', [], { members: 'M' })), 'P1', 0).ok)
  t.true(view.accept(env('host', 'h2', 1, state('B', [], { members: 'OTHER' })), 'P2', 0).ok, 'another member list is no drop: the member stays in the view')
  t.true(view.accept(env('host', 'h3', 1, state('B', [])), 'P3', 0).ok, 'a state without a hash (an older agent) is kept too')
  t.is(view.member('h2')!.state!.members, 'OTHER', 'the hash is kept with the member')
  t.true(view.agreesOnMembers('h1'))
  t.false(view.agreesOnMembers('h2'))
  t.false(view.agreesOnMembers('h3'), 'no hash: cannot agree')
  t.deepEqual(view.memberListMismatches(), [{ host: 'h2', peerId: 'P2', hash: 'OTHER' }, { host: 'h3', peerId: 'P3', hash: undefined }])
  t.deepEqual(view.drops['topology-mismatch'], 0)
  // The member fixes its config: its next state agrees, and the mismatch is gone.
  view.accept(env('host', 'h2', 2, state('B', [], { members: 'M' })), 'P2', 1000)
  t.true(view.agreesOnMembers('h2'))
  t.deepEqual(view.memberListMismatches().map(m => m.host), ['h3'])
  t.deepEqual(view.live(1000).map(m => m.host), ['h1', 'h2', 'h3'], 'a mismatch does not take a member out of the live set')
})

test('member lists: without a hash of our own every member agrees and none is listed', t => {
  const view = new ReplicatedView({ members, downAfterMs: 5000 })
  view.accept(env('host', 'h1', 1, state('A', [], { members: 'X' })), 'P1', 0)
  t.true(view.agreesOnMembers('h1'))
  t.deepEqual(view.memberListMismatches(), [])
})

test('a host under a new peer id (a rotated peer key) keeps its state, VMs and liveness; its old peer id is dropped as superseded; its numbers start over', t => {
  const view = new ReplicatedView({ members, downAfterMs: 5000, membersHash: 'H0' })
  view.accept(env('host', 'h1', 1, state('A', ['v1'])), 'P1', 0)
  view.accept(env('host', 'h2', 900, state('B', ['v2', 'v3'])), 'P2', 1000)
  view.setMembers([members[0]!, { host: 'h2', peerId: 'P2-NEW' }], 'H1', new Map([['P2', 'superseded']]))
  t.is(view.member('h2')!.peerId, 'P2-NEW')
  t.is(view.hostOfPeer('P2'), undefined)
  t.is(view.hostOfPeer('P2-NEW'), 'h2')
  t.deepEqual(view.live(2000).map(m => m.host), ['h1', 'h2'], 'still live: heard 1 s ago, as before the new key')
  t.deepEqual(view.snapshot(topology, 2000).vms.map(v => v.id).sort(), ['v1', 'v2', 'v3'], 'its VMs stay in the snapshot')
  t.like(view.accept(env('host', 'h2', 901, state('B', ['v2'])), 'P2', 2000), { ok: false, reason: 'superseded', reject: true })
  t.true(view.accept(env('host', 'h2', 5, state('B', ['v2'])), 'P2-NEW', 2000).ok, 'the new peer\'s numbers start over: a leaked old key\'s high numbers hold nothing back')
  t.deepEqual(view.member('h2')!.state!.vms.map(v => v.id), ['v2'])
  t.is(view.drops.superseded, 1)
  // A host removed and added in separate lists (revoked, invited again later) starts unheard of.
  view.setMembers([members[0]!], 'H2', new Map([['P2-NEW', 'revoked']]))
  view.setMembers([members[0]!, { host: 'h2', peerId: 'P2-AGAIN' }], 'H3', new Map())
  t.is(view.member('h2')!.state, undefined)
})

test('around a topology switch the view takes the hashes it is given, and a state staging one of them', t => {
  const view = new ReplicatedView({ members, downAfterMs: 5000, topology: 'OLD' })
  t.like(view.accept(env('host', 'h1', 1, state('A', [], { topology: 'NEW' })), 'P1', 0), { ok: false, reason: 'topology-mismatch' })
  t.true(view.accept(env('host', 'h1', 2, state('A', [], { topology: 'NEW', staged: { topology: 'OLD', round: 1 } })), 'P1', 0).ok, 'it staged ours')
  // We staged NEW: states running it are taken; after our switch, OLD a round longer; then only NEW, or a state staging NEW.
  view.setTopologies(['OLD', 'NEW'])
  t.true(view.accept(env('host', 'h2', 1, state('B', [], { topology: 'NEW' })), 'P2', 0).ok)
  view.setTopologies(['NEW', 'OLD'])
  t.true(view.accept(env('host', 'h2', 2, state('B', [], { topology: 'OLD' })), 'P2', 0).ok, 'a state sent just before the switch')
  view.setTopologies(['NEW'])
  t.like(view.accept(env('host', 'h2', 3, state('B', [], { topology: 'OLD' })), 'P2', 0), { ok: false, reason: 'topology-mismatch' })
  t.true(view.accept(env('host', 'h2', 4, state('B', [], { topology: 'OLD', staged: { topology: 'NEW', round: 9 } })), 'P2', 0).ok, 'a member about to switch too')
  t.like(view.accept(env('host', 'h2', 5, state('B', [], { topology: 'OLD', staged: { topology: 'OTHER', round: 9 } })), 'P2', 0), { ok: false, reason: 'topology-mismatch' })
})

test('a member whose newer state was on another topology is not up until a state on ours comes', t => {
  const view = new ReplicatedView({ members, downAfterMs: 5000, topology: 'NEW' })
  t.true(view.accept(env('host', 'h2', 1, state('B', ['v2'], { topology: 'NEW' })), 'P2', 0).ok)
  t.like(view.accept(env('host', 'h2', 2, state('B', ['v2'], { topology: 'OLD' })), 'P2', 10), { ok: false, reason: 'topology-mismatch' })
  view.otherTopology('h2')
  t.true(view.accept(env('traffic', 'h2', 1, { windowMs: 1000, vms: [] }), 'P2', 20).ok, 'its digests still come')
  t.false(view.isUp('h2', 20))
  t.deepEqual(view.snapshot(topology, 20).vms, [], 'its stale state plans nothing')
  t.true(view.accept(env('host', 'h2', 3, state('B', ['v2'], { topology: 'NEW' })), 'P2', 30).ok)
  t.true(view.isUp('h2', 30))
})
