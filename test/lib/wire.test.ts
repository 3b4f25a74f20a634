import test from 'ava'
import { encode } from 'cborg'
import { decodeEnvelope, encodeEnvelope, WireError } from '../../lib/wire/codec.ts'
import { type Envelope, MAX_MESSAGE_BYTES } from '../../lib/wire/messages.ts'
import { readRelayAnswer, readRelayMessage } from '../../lib/wire/relay.ts'

export const hostEnv: Envelope<'host'> = {
  v: 1,
  topic: 'host',
  host: 'h1',
  round: 7,
  seq: 3,
  body: { dc: 'A', memoryMiB: 4096, vcpus: 4, address: 'fd00::1', topology: 'abc', leaving: false, vms: [{ id: 'v1', addresses: ['fd00::10'], memoryMiB: 512, vcpus: 1, pinned: false, migrating: false }] }
}

test('every topic round-trips through CBOR unchanged', t => {
  const envs: Envelope[] = [
    hostEnv,
    { v: 1, topic: 'traffic', host: 'h1', round: 7, seq: 4, body: { windowMs: 1000, vms: [{ vm: 'v1', peers: [{ peer: 'v2', out: 1e6, in: 0 }], restOut: 5 }] } },
    { v: 1, topic: 'plan', host: 'h1', round: 7, seq: 5, body: { rank: 0, planner: 'lookahead', inputs: { h1: 3 }, initialCost: 0.5, finalCost: 0.25, moves: [{ vm: 'v1', from: 'h1', to: 'h2', cost: 0.25 }] } },
    { v: 1, topic: 'event', host: 'h1', round: 7, seq: 6, body: { kind: 'migration-done', vm: 'v1', from: 'h1', to: 'h2', totalMs: 1200, downtimeMs: 30, bytes: 1e6 } }
  ]
  for (const env of envs) t.deepEqual(decodeEnvelope(encodeEnvelope(env), env.topic), env)
})

function reason (bytes: Uint8Array, topic?: 'host'): string {
  try { decodeEnvelope(bytes, topic); return 'accepted' } catch (err) { return err instanceof WireError ? `${err.reason}: ${err.message}` : `crash: ${String(err)}` }
}

test('oversized, non-CBOR, wrong-schema and wrong-topic messages are rejected with their reason', t => {
  t.regex(reason(new Uint8Array(MAX_MESSAGE_BYTES + 1)), /^oversized/)
  t.regex(reason(Uint8Array.from([0xff, 0x00, 0x13])), /^malformed/)
  t.regex(reason(encode({ ...hostEnv, v: 2 })), /^schema: v:/)
  t.regex(reason(encode({ ...hostEnv, seq: -1 })), /^schema: seq:/)
  t.regex(reason(encode({ ...hostEnv, body: { ...hostEnv.body, address: '10.0.0.1' } })), /^schema: body.address: expected an IPv6 address/)
  t.regex(reason(encode({ ...hostEnv, body: { ...hostEnv.body, vms: [{ id: 'v1' }] } })), /^schema: body.vms\[0\]/)
  t.regex(reason(encode({ ...hostEnv, extra: 1 })), /^schema: extra/)
  t.regex(reason(encodeEnvelope({ ...hostEnv, topic: 'event', body: { kind: 'leave' } }), 'host'), /^wrong-topic/)
  const digest = { v: 1, topic: 'traffic', host: 'h1', round: 1, seq: 1, body: { windowMs: 1000, vms: [{ vm: 'v', restOut: 0, peers: Array.from({ length: 17 }, (_, i) => ({ peer: `p${i}`, out: 1, in: 0 })) }] } }
  t.regex(reason(encode(digest)), /at most 16 peers/)
})

test('random bytes never crash the decoder', t => {
  let seed = 42
  const rand = (): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed / 0x7fffffff }
  const base = encodeEnvelope(hostEnv)
  let rejected = 0
  for (let i = 0; i < 5000; i++) {
    const bytes = Uint8Array.from(base)
    for (let k = 0; k < 1 + Math.floor(rand() * 4); k++) bytes[Math.floor(rand() * bytes.length)] = Math.floor(rand() * 256)
    const r = reason(bytes)
    t.false(r.startsWith('crash'), r)
    if (r !== 'accepted') rejected++
  }
  t.log(`5000 mutated messages: ${rejected} rejected with a reason, ${5000 - rejected} still valid, 0 crashes`)
})

test('operator fields: a draining state, approve and pin events round-trip; an approve without its round or a pin without its VM is rejected', t => {
  const draining: Envelope = { ...hostEnv, body: { ...hostEnv.body, leaving: true, draining: true } }
  t.deepEqual(decodeEnvelope(encodeEnvelope(draining), 'host'), draining)
  t.false('draining' in (decodeEnvelope(encodeEnvelope(hostEnv), 'host') as Envelope<'host'>).body, 'absent when not draining')
  for (const body of [{ kind: 'approve', round: 41 }, { kind: 'pin', vm: 'v1' }, { kind: 'unpin', vm: 'v1' }] as const) {
    const env: Envelope = { v: 1, topic: 'event', host: 'h1', round: 42, seq: 9, body }
    t.deepEqual(decodeEnvelope(encodeEnvelope(env), 'event'), env)
  }
  const event = (body: unknown): Uint8Array => encode({ v: 1, topic: 'event', host: 'h1', round: 42, seq: 9, body })
  t.regex(reason(event({ kind: 'approve' })), /^schema: body.round: expected the approved round/)
  t.regex(reason(event({ kind: 'approve', round: -1 })), /^schema: body.round: expected a number >= 0/)
  t.regex(reason(event({ kind: 'pin' })), /^schema: body.vm: expected the VM id/)
  t.regex(reason(encode({ ...hostEnv, body: { ...hostEnv.body, draining: 1 } })), /^schema: body.draining: expected true or false/)
})

test('a state may say hello: it round-trips, is absent otherwise, and must be a boolean', t => {
  const hello: Envelope = { ...hostEnv, body: { ...hostEnv.body, hello: true } }
  t.deepEqual(decodeEnvelope(encodeEnvelope(hello), 'host'), hello)
  t.false('hello' in (decodeEnvelope(encodeEnvelope(hostEnv), 'host') as Envelope<'host'>).body)
  t.regex(reason(encode({ ...hostEnv, body: { ...hostEnv.body, hello: 'yes' } })), /^schema: body.hello: expected true or false/)
})

test('a state\'s member-list hash round-trips, is optional (an older agent sends none), and must be a short string', t => {
  const withHash: Envelope = { ...hostEnv, body: { ...hostEnv.body, members: 'a'.repeat(64) } }
  t.deepEqual(decodeEnvelope(encodeEnvelope(withHash), 'host'), withHash)
  t.false('members' in (decodeEnvelope(encodeEnvelope(hostEnv), 'host') as Envelope<'host'>).body, 'absent when not sent')
  t.regex(reason(encode({ ...hostEnv, body: { ...hostEnv.body, members: 7 } })), /^schema: body.members/)
  t.regex(reason(encode({ ...hostEnv, body: { ...hostEnv.body, members: 'x'.repeat(129) } })), /^schema: body.members/)
})

test('relay: an audit carries no items; its answer\'s held seq is optional, an integer from -1; other answer fields stay strict', t => {
  t.deepEqual(readRelayMessage({ kind: 'audit', epoch: 3, items: [] }), { kind: 'audit', epoch: 3, items: [] })
  t.regex(readRelayMessage({ kind: 'gossip', epoch: 3, items: [] }) as string, /kind/)
  t.deepEqual(readRelayAnswer({ accepted: 0, dropped: 0, fresh: false, held: 41 }), { accepted: 0, dropped: 0, fresh: false, held: 41 })
  t.deepEqual(readRelayAnswer({ accepted: 2, dropped: 0, fresh: true }), { accepted: 2, dropped: 0, fresh: true })
  t.deepEqual(readRelayAnswer({ accepted: 0, dropped: 0, fresh: false, held: -1 }), { accepted: 0, dropped: 0, fresh: false, held: -1 })
  t.is(typeof readRelayAnswer({ accepted: 0, dropped: 0, fresh: false, held: -2 }), 'string')
  t.is(typeof readRelayAnswer({ accepted: 0, dropped: 0, fresh: false, held: 1.5 }), 'string')
  t.is(typeof readRelayAnswer({ accepted: 0, dropped: 0, fresh: false, extra: 1 }), 'string')
})

test('a state\'s staged topology round-trips, is optional, and is read strictly', t => {
  const staged: Envelope = { ...hostEnv, body: { ...hostEnv.body, staged: { topology: 'b'.repeat(64), round: 12 } } }
  t.deepEqual(decodeEnvelope(encodeEnvelope(staged), 'host'), staged)
  t.false('staged' in (decodeEnvelope(encodeEnvelope(hostEnv), 'host') as Envelope<'host'>).body, 'absent when nothing is staged')
  t.regex(reason(encode({ ...hostEnv, body: { ...hostEnv.body, staged: 'b'.repeat(64) } })), /^schema: body.staged/)
  t.regex(reason(encode({ ...hostEnv, body: { ...hostEnv.body, staged: { topology: 'b', round: -1 } } })), /^schema: body.staged.round/)
  t.regex(reason(encode({ ...hostEnv, body: { ...hostEnv.body, staged: { topology: 'b', round: 1, extra: 1 } } })), /^schema: body.staged/)
  t.regex(reason(encode({ ...hostEnv, body: { ...hostEnv.body, staged: { topology: 'x'.repeat(129), round: 1 } } })), /^schema: body.staged.topology/)
})
