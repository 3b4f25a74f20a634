/** The schema of every gossip message, checked field by field (lib/check.ts). */
import { Checker, join, type Json } from '../check.ts'
import { parseIpv6 } from '../address.ts'
import { readSettings } from '../settings.ts'
import {
  type Bodies, type Envelope, EVENT_KINDS, type EventMessage, type HostState, type PlanMessage, type StagedTopology,
  type Topic, TOPICS, type TrafficDigest, type VmState, WIRE_VERSION, DIGEST_TOP_K
} from './messages.ts'

const ID_MAX = 128
const MAX_VMS_PER_HOST = 4096
const MAX_MOVES = 100_000

/** Returns the envelope, or a one-line description of what is wrong with it. */
export function readEnvelope (value: Json): Envelope | string {
  const c = new Checker(5)
  const o = c.object('', value)
  if (o === undefined) return c.summary('(message)')
  c.onlyKeys('', o, ['v', 'topic', 'host', 'round', 'seq', 'body'])
  if (o.v !== WIRE_VERSION) c.fail('v', String(WIRE_VERSION), o.v)
  const topic = c.oneOf('topic', o.topic, TOPICS)
  const host = c.string('host', o.host, { max: ID_MAX })
  const round = c.number('round', o.round, { integer: true, min: 0 })
  const seq = c.number('seq', o.seq, { integer: true, min: 0 })
  if (!c.ok || topic === undefined) return c.summary('(message)')
  const body = BODY_READERS[topic](c, 'body', o.body)
  if (!c.ok || body === undefined) return c.summary('(message)')
  return { v: WIRE_VERSION, topic, host: host!, round: round!, seq: seq!, body } as Envelope
}

type Reader<T> = (c: Checker, path: string, v: Json) => T | undefined

const BODY_READERS: { [K in Topic]: Reader<Bodies[K]> } = {
  host: readHostState,
  traffic: readDigest,
  plan: readPlan,
  event: readEvent
}

function ids (c: Checker, path: string, v: Json, max: number): string[] | undefined {
  const arr = c.array(path, v)
  if (arr === undefined) return undefined
  if (arr.length > max) { c.fail(path, `at most ${max} entries`, arr); return undefined }
  return arr.map((x, i) => c.string(join(path, i), x, { max: ID_MAX }) ?? '')
}

function readHostState (c: Checker, path: string, v: Json): HostState | undefined {
  const o = c.object(path, v)
  if (o === undefined) return undefined
  c.onlyKeys(path, o, ['dc', 'memoryMiB', 'vcpus', 'address', 'vms', 'topology', 'members', 'leaving', 'draining', 'hello', 'settings', 'staged'])
  const dc = c.string(join(path, 'dc'), o.dc, { max: ID_MAX })
  const memoryMiB = c.number(join(path, 'memoryMiB'), o.memoryMiB, { min: 0 })
  const vcpus = c.number(join(path, 'vcpus'), o.vcpus, { min: 0, integer: true })
  const address = c.string(join(path, 'address'), o.address, { max: 64 })
  if (address !== undefined && parseIpv6(address) === undefined) c.fail(join(path, 'address'), 'an IPv6 address', address)
  const topology = c.string(join(path, 'topology'), o.topology, { max: 128 })
  const members = c.optional(o.members, x => c.string(join(path, 'members'), x, { max: 128 }))
  const leaving = c.boolean(join(path, 'leaving'), o.leaving)
  const draining = c.optional(o.draining, x => c.boolean(join(path, 'draining'), x))
  const hello = c.optional(o.hello, x => c.boolean(join(path, 'hello'), x))
  const settings = c.optional(o.settings, x => c.number(join(path, 'settings'), x, { integer: true, min: 1, max: Number.MAX_SAFE_INTEGER }))
  const staged = c.optional(o.staged, x => readStaged(c, join(path, 'staged'), x))
  const arr = c.array(join(path, 'vms'), o.vms) ?? []
  if (arr.length > MAX_VMS_PER_HOST) c.fail(join(path, 'vms'), `at most ${MAX_VMS_PER_HOST} VMs`, arr)
  const vms = arr.slice(0, MAX_VMS_PER_HOST).map((x, i) => readVm(c, join(join(path, 'vms'), i), x))
  if (!c.ok) return undefined
  const state: HostState = { dc: dc!, memoryMiB: memoryMiB!, vcpus: vcpus!, address: address!, vms: vms as VmState[], topology: topology!, leaving: leaving! }
  if (members !== undefined) state.members = members
  if (draining === true) state.draining = true
  if (hello === true) state.hello = true
  if (settings !== undefined) state.settings = settings
  if (staged !== undefined) state.staged = staged
  return state
}

function readStaged (c: Checker, path: string, v: Json): StagedTopology | undefined {
  const o = c.object(path, v)
  if (o === undefined) return undefined
  c.onlyKeys(path, o, ['topology', 'round'])
  const topology = c.string(join(path, 'topology'), o.topology, { max: 128 })
  const round = c.number(join(path, 'round'), o.round, { integer: true, min: 0, max: Number.MAX_SAFE_INTEGER })
  if (topology === undefined || round === undefined) return undefined
  return { topology, round }
}

function readVm (c: Checker, path: string, v: Json): VmState | undefined {
  const o = c.object(path, v)
  if (o === undefined) return undefined
  c.onlyKeys(path, o, ['id', 'addresses', 'memoryMiB', 'vcpus', 'pinned', 'migrating'])
  const id = c.string(join(path, 'id'), o.id, { max: ID_MAX })
  const addresses = ids(c, join(path, 'addresses'), o.addresses, 16) ?? []
  addresses.forEach((a, i) => { if (parseIpv6(a) === undefined) c.fail(join(join(path, 'addresses'), i), 'an IPv6 address', a) })
  const memoryMiB = c.number(join(path, 'memoryMiB'), o.memoryMiB, { min: 0 })
  const vcpus = c.number(join(path, 'vcpus'), o.vcpus, { min: 0, integer: true })
  const pinned = c.boolean(join(path, 'pinned'), o.pinned)
  const migrating = c.boolean(join(path, 'migrating'), o.migrating)
  if (id === undefined) return undefined
  return { id, addresses, memoryMiB: memoryMiB!, vcpus: vcpus!, pinned: pinned!, migrating: migrating! }
}

function readDigest (c: Checker, path: string, v: Json): TrafficDigest | undefined {
  const o = c.object(path, v)
  if (o === undefined) return undefined
  c.onlyKeys(path, o, ['windowMs', 'vms'])
  const windowMs = c.number(join(path, 'windowMs'), o.windowMs, { positive: true })
  const arr = c.array(join(path, 'vms'), o.vms) ?? []
  if (arr.length > MAX_VMS_PER_HOST) c.fail(join(path, 'vms'), `at most ${MAX_VMS_PER_HOST} VMs`, arr)
  const vms = arr.slice(0, MAX_VMS_PER_HOST).map((x, i) => {
    const p = join(join(path, 'vms'), i)
    const e = c.object(p, x)
    if (e === undefined) return undefined
    c.onlyKeys(p, e, ['vm', 'peers', 'restOut'])
    const vm = c.string(join(p, 'vm'), e.vm, { max: ID_MAX })
    const restOut = c.number(join(p, 'restOut'), e.restOut, { min: 0 })
    const peersRaw = c.array(join(p, 'peers'), e.peers) ?? []
    if (peersRaw.length > DIGEST_TOP_K) c.fail(join(p, 'peers'), `at most ${DIGEST_TOP_K} peers (the rest goes in restOut)`, peersRaw)
    const peers = peersRaw.slice(0, DIGEST_TOP_K).map((y, k) => {
      const q = join(join(p, 'peers'), k)
      const r = c.object(q, y)
      if (r === undefined) return undefined
      c.onlyKeys(q, r, ['peer', 'out', 'in'])
      const peer = c.string(join(q, 'peer'), r.peer, { max: ID_MAX })
      const out = c.number(join(q, 'out'), r.out, { min: 0 })
      const inb = c.number(join(q, 'in'), r.in, { min: 0 })
      return peer === undefined ? undefined : { peer, out: out!, in: inb! }
    })
    return vm === undefined ? undefined : { vm, peers, restOut: restOut! }
  })
  if (!c.ok) return undefined
  return { windowMs: windowMs!, vms } as TrafficDigest
}

function readPlan (c: Checker, path: string, v: Json): PlanMessage | undefined {
  const o = c.object(path, v)
  if (o === undefined) return undefined
  c.onlyKeys(path, o, ['rank', 'planner', 'inputs', 'initialCost', 'finalCost', 'moves'])
  const rank = c.number(join(path, 'rank'), o.rank, { integer: true, min: 0 })
  const planner = c.string(join(path, 'planner'), o.planner, { max: ID_MAX })
  const inputsObj = c.object(join(path, 'inputs'), o.inputs) ?? {}
  const inputs: Record<string, number> = {}
  for (const [k, x] of Object.entries(inputsObj)) {
    const n = c.number(join(join(path, 'inputs'), k), x, { integer: true, min: 0 })
    if (n !== undefined) inputs[k] = n
  }
  const initialCost = c.number(join(path, 'initialCost'), o.initialCost, { min: 0 })
  const finalCost = c.number(join(path, 'finalCost'), o.finalCost, { min: 0 })
  const arr = c.array(join(path, 'moves'), o.moves) ?? []
  if (arr.length > MAX_MOVES) c.fail(join(path, 'moves'), `at most ${MAX_MOVES} moves`, arr)
  const moves = arr.slice(0, MAX_MOVES).map((x, i) => {
    const p = join(join(path, 'moves'), i)
    const m = c.object(p, x)
    if (m === undefined) return undefined
    c.onlyKeys(p, m, ['vm', 'from', 'to', 'cost'])
    return {
      vm: c.string(join(p, 'vm'), m.vm, { max: ID_MAX }),
      from: c.string(join(p, 'from'), m.from, { max: ID_MAX }),
      to: c.string(join(p, 'to'), m.to, { max: ID_MAX }),
      cost: c.number(join(p, 'cost'), m.cost, { min: 0 })
    }
  })
  if (!c.ok) return undefined
  return { rank: rank!, planner: planner!, inputs, initialCost: initialCost!, finalCost: finalCost!, moves } as PlanMessage
}

function readEvent (c: Checker, path: string, v: Json): EventMessage | undefined {
  const o = c.object(path, v)
  if (o === undefined) return undefined
  c.onlyKeys(path, o, ['kind', 'vm', 'from', 'to', 'detail', 'round', 'planner', 'totalMs', 'downtimeMs', 'bytes', 'settings'])
  const kind = c.oneOf(join(path, 'kind'), o.kind, EVENT_KINDS)
  const ev: EventMessage = { kind: kind! }
  for (const k of ['vm', 'from', 'to', 'planner'] as const) {
    const s = c.optional(o[k], x => c.string(join(path, k), x, { max: ID_MAX }))
    if (s !== undefined) ev[k] = s
  }
  const detail = c.optional(o.detail, x => c.string(join(path, 'detail'), x, { nonEmpty: false, max: 1024 }))
  if (detail !== undefined) ev.detail = detail
  for (const k of ['totalMs', 'downtimeMs', 'bytes'] as const) {
    const n = c.optional(o[k], x => c.number(join(path, k), x, { min: 0 }))
    if (n !== undefined) ev[k] = n
  }
  const round = c.optional(o.round, x => c.number(join(path, 'round'), x, { integer: true, min: 0 }))
  if (round !== undefined) ev.round = round
  // Operator events are useless without their subject.
  if (kind === 'approve' && round === undefined) c.fail(join(path, 'round'), 'the approved round (an integer)', o.round)
  if ((kind === 'pin' || kind === 'unpin') && ev.vm === undefined) c.fail(join(path, 'vm'), 'the VM id', o.vm)
  const settings = c.optional(o.settings, x => readSettings(c, join(path, 'settings'), x))
  if (settings !== undefined) ev.settings = settings
  if (kind === 'settings' && o.settings === undefined) c.fail(join(path, 'settings'), 'the settings record', o.settings)
  if (kind === 'plan-ack' && (round === undefined || ev.planner === undefined)) c.fail(join(path, 'planner'), 'the acknowledged round and planner', o.planner)
  return c.ok ? ev : undefined
}
