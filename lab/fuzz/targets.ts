/**
 * Everything that reads untrusted input, as fuzz targets. Each target takes
 * bytes, returns 'ok' or the reason it rejected them, and must never throw
 * anything but its own error type (a throw of another kind is a crash).
 */
import { ValidationError } from '../../lib/errors.ts'
import { parseSnapshot } from '../../lib/snapshot.ts'
import { parseTopology } from '../../lib/topology.ts'
import { decodeEnvelope, encodeEnvelope, WireError } from '../../lib/wire/codec.ts'
import type { Envelope } from '../../lib/wire/messages.ts'
import { parseConfig } from '../../agent/config.ts'
import { LAB_DRIVERS } from '../drivers/index.ts'
import { readMigrateRequest, readMigrateResponse } from '../../agent/migrate-protocol.ts'
import { MAX_REQUEST_BYTES, NOT_ONE_LINE_OF_JSON, parseControlLine } from '../../agent/control-socket/protocol.ts'
import { ProtocolError } from '../../agent/net/errors.ts'
import { parseEnvelope } from '../../agent/net/request.ts'
import { decode, encode } from 'cborg'

export interface FuzzTarget {
  name: string
  /** Valid inputs to mutate. */
  seeds: Uint8Array[]
  /** The seeds as values, and how values become bytes, for structure-aware mutation. */
  values: unknown[]
  serialize (value: unknown): Uint8Array
  /** Returns 'ok' or a rejection reason; throws only on a crash. */
  run (input: Uint8Array): string
}

const text = new TextDecoder()
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s)

/** JSON inputs: a parse error is a rejection; a ValidationError is one by its first issue's path. */
function jsonTarget (name: string, seeds: unknown[], parse: (v: unknown) => unknown): FuzzTarget {
  return {
    name,
    seeds: seeds.map(s => bytes(JSON.stringify(s))),
    values: seeds,
    serialize: v => bytes(JSON.stringify(v) ?? 'null'),
    run (input) {
      let value: unknown
      try { value = JSON.parse(text.decode(input)) } catch { return 'not-json' }
      try {
        parse(value)
        return 'ok'
      } catch (err) {
        if (err instanceof ValidationError) return `invalid:${err.issues[0]?.path.replace(/\[\d+\]/g, '[]') ?? '?'}`
        throw err
      }
    }
  }
}

const snapshotSeed = {
  version: 1,
  dcs: [{ id: 'A' }, { id: 'B' }],
  links: [{ from: 'A', to: 'B', capacityBps: 1e9, latencyMs: 20, pricePerGB: 0.01 }, { from: 'B', to: 'A', capacityBps: 1e9 }],
  hosts: [{ id: 'a1', dc: 'A', memoryMiB: 4096, vcpus: 4 }, { id: 'b1', dc: 'B', memoryMiB: 4096, vcpus: 4 }],
  vms: [{ id: 'v1', host: 'a1', addresses: ['fd00::1'], memoryMiB: 512, vcpus: 1, pinned: false, group: 'g' }, { id: 'v2', host: 'b1', addresses: ['fd00::2'], memoryMiB: 512, vcpus: 1 }],
  prefixes: [{ id: 'web', prefix: '2001:db8::/48', dc: 'A' }],
  flows: [{ src: 'v1', dst: 'v2', bps: 1e6 }, { src: 'web', dst: 'v2', bps: 5e5 }]
}

const configSeed = {
  cluster: 'prod', host: 'h1', dc: 'A', stateDir: '/var/lib/heliotrope', listen: ['/ip6/::/tcp/4001'], bootstrap: [], pskFile: '/etc/heliotrope/psk',
  members: [{ host: 'h1', peerId: '12D3KooWexample' }], topologyFile: '/etc/heliotrope/topology.json', address: 'fd00::1',
  capacity: { memoryMiB: 65536, vcpus: 32 }, roundPeriodMs: 30000, planner: { name: 'lookahead', maxMoves: 5, weights: { latency: 0.1 } },
  collector: { kind: 'nftables', hooks: ['bridge'], platformPrefixes: ['fd00::/8'] }, hypervisor: { kind: 'qemu', dir: '/run/heliotrope/qemu' }
}

const simConfigSeed = { ...configSeed, collector: { kind: 'sim', world: '/tmp/w' }, hypervisor: { kind: 'sim', world: '/tmp/w' } }

const envelopes: Envelope[] = [
  { v: 1, topic: 'host', host: 'h1', round: 3, seq: 9, body: { dc: 'A', memoryMiB: 4096, vcpus: 4, address: 'fd00::1', topology: 'ab', leaving: false, vms: [{ id: 'v1', addresses: ['fd00::10'], memoryMiB: 512, vcpus: 1, pinned: false, migrating: false }] } },
  { v: 1, topic: 'traffic', host: 'h1', round: 3, seq: 10, body: { windowMs: 1000, vms: [{ vm: 'v1', peers: [{ peer: 'v2', out: 10, in: 0 }], restOut: 1 }] } },
  { v: 1, topic: 'plan', host: 'h1', round: 3, seq: 11, body: { rank: 0, planner: 'h1', inputs: { h1: 9 }, initialCost: 1, finalCost: 0.5, moves: [{ vm: 'v1', from: 'h1', to: 'h2', cost: 0.5 }] } },
  { v: 1, topic: 'host', host: 'h2', round: 3, seq: 13, body: { dc: 'B', memoryMiB: 4096, vcpus: 4, address: 'fd00::2', topology: 'ab', leaving: true, draining: true, vms: [] } },
  // One event of every kind, each with the fields its kind carries.
  { v: 1, topic: 'event', host: 'h1', round: 3, seq: 12, body: { kind: 'migration-done', vm: 'v1', from: 'h1', to: 'h2', totalMs: 10, downtimeMs: 1, bytes: 100 } },
  { v: 1, topic: 'event', host: 'h1', round: 3, seq: 14, body: { kind: 'migration-started', vm: 'v1', from: 'h1', to: 'h2' } },
  { v: 1, topic: 'event', host: 'h1', round: 3, seq: 15, body: { kind: 'migration-failed', vm: 'v1', from: 'h1', to: 'h2', totalMs: 10, detail: 'h2 refused: no-room' } },
  { v: 1, topic: 'event', host: 'h2', round: 3, seq: 16, body: { kind: 'takeover', detail: 'rank 1 planned round 3' } },
  { v: 1, topic: 'event', host: 'h2', round: 3, seq: 17, body: { kind: 'leave' } },
  { v: 1, topic: 'event', host: 'h1', round: 3, seq: 18, body: { kind: 'approve', round: 2 } },
  { v: 1, topic: 'event', host: 'h1', round: 3, seq: 19, body: { kind: 'pin', vm: 'v1' } },
  { v: 1, topic: 'event', host: 'h1', round: 3, seq: 20, body: { kind: 'unpin', vm: 'v1' } },
  { v: 1, topic: 'event', host: 'h2', round: 3, seq: 21, body: { kind: 'plan-ack', round: 3, planner: 'h1' } }
]

const migrateSeeds = [
  { op: 'reserve', round: 4, vm: { id: 'v1', status: 'running', memoryMiB: 512, vcpus: 1, addresses: ['fd00::1'], args: ['-m', '512'] } },
  { op: 'commit', round: 4, vmId: 'v1' }
]

// The answers a target host gives: what each driver's prepareIncoming() returns, commit/cancel, refusals.
const migrateReplies = [
  { ok: true, target: { address: 'fd00::2', uri: 'sim:h2' }, expiresAt: 1_700_000_000_000 },
  { ok: true, target: { address: 'fd00::2', port: 49152, uri: 'tcp:[fd00::2]:49152' }, expiresAt: 1_700_000_000_000 },
  { ok: true },
  { ok: false, reason: 'no-room', detail: 'needs 512 MiB/1 vCPUs, 0 MiB/2 left' },
  { ok: false, reason: 'not-member', detail: 'not a member of this cluster' }
]
// The request helper's reply envelope around them, and its own refusals.
const envelopeSeeds = [
  ...migrateReplies.map(body => ({ ok: true, body })),
  { ok: false, code: 'bad-request', message: 'not canonical CBOR: unexpected end of input' },
  { ok: false, code: 'too-large', message: 'request exceeds 65536 bytes' }
]
const controlSeeds = [{ op: 'controls' }, { op: 'approve', round: 12 }, { op: 'approve' }, { op: 'pin', vm: 'v1' }, { op: 'pin' }, { op: 'unpin', vm: 'v1' }, { op: 'drain' }, { op: 'undrain' }]

/** A ProtocolError's reason: its message up to the first colon (the rest quotes the input). */
const protocolReason = (err: unknown): string => {
  if (err instanceof ProtocolError) return `protocol:${err.message.split(':')[0]!}`
  throw err
}

export const TARGETS: FuzzTarget[] = [
  jsonTarget('snapshot', [snapshotSeed], parseSnapshot),
  jsonTarget('topology', [{ dcs: snapshotSeed.dcs, links: snapshotSeed.links, prefixes: snapshotSeed.prefixes }], parseTopology),
  // A production agent refuses the lab's kinds; the lab's parser reads them too.
  jsonTarget('config', [configSeed, simConfigSeed], parseConfig),
  jsonTarget('lab config', [configSeed, simConfigSeed], json => parseConfig(json, LAB_DRIVERS)),
  {
    name: 'gossip',
    seeds: envelopes.map(encodeEnvelope),
    values: envelopes,
    serialize: v => encode(v),
    run (input) {
      try { decodeEnvelope(input); return 'ok' } catch (err) {
        if (err instanceof WireError) return `${err.reason}:${err.message.split(':')[0]}`
        throw err
      }
    }
  },
  {
    name: 'migrate-request',
    seeds: migrateSeeds.map(v => encode(v)),
    values: migrateSeeds,
    serialize: v => encode(v),
    run (input) {
      let value: unknown
      // The request helper decodes strictly before the handler sees a body.
      try { value = decode(input, { strict: true, rejectDuplicateMapKeys: true, allowUndefined: false }) } catch { return 'not-cbor' }
      const r = readMigrateRequest(value)
      return typeof r === 'string' ? `invalid:${r.split(':')[0]}` : 'ok'
    }
  },
  {
    // Any stream protocol's answer, as request() reads it before the caller sees the body.
    name: 'request-envelope',
    seeds: envelopeSeeds.map(v => encode(v)),
    values: envelopeSeeds,
    serialize: v => encode(v),
    run (input) {
      try { parseEnvelope(input); return 'ok' } catch (err) { return protocolReason(err) }
    }
  },
  {
    // The migrate protocol's answer, as the source reads it (agent/migrations.ts ask()): envelope, then body.
    name: 'migrate-reply',
    seeds: migrateReplies.map(body => encode({ ok: true, body })),
    values: migrateReplies.map(body => ({ ok: true, body })),
    serialize: v => encode(v),
    run (input) {
      let env
      try { env = parseEnvelope(input) } catch (err) { return protocolReason(err) }
      if (!env.ok) return `remote:${env.code}`
      const r = readMigrateResponse(env.body)
      return typeof r === 'string' ? `invalid:${r.split(':')[0]}` : 'ok'
    }
  },
  {
    // What the control socket's server makes of a client's bytes (control-socket/server.ts).
    name: 'control-request',
    seeds: controlSeeds.map(v => bytes(JSON.stringify(v) + '\n')),
    values: controlSeeds,
    serialize: v => bytes((JSON.stringify(v) ?? 'null') + '\n'),
    run (input) {
      // The server reads UTF-8 text, caps it, and answers the first line.
      const got = text.decode(input)
      if (got.length > MAX_REQUEST_BYTES) return 'too-large'
      const nl = got.indexOf('\n')
      if (nl < 0) return 'no-newline'
      const r = parseControlLine(got.slice(0, nl))
      if (typeof r !== 'string') return 'ok'
      return r === NOT_ONE_LINE_OF_JSON ? 'not-json' : `invalid:${r.split(':')[0]}`
    }
  }
]
