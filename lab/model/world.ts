/**
 * The simulated cloud: N hosts dealt over D DCs, a lib/scenario.ts world of
 * N x V VMs whose VMs keep their DC and are dealt round-robin over its
 * hosts (the rule lab/sim/scenario-world.ts uses, so `today` at 8-64 hosts
 * models the world bench:gossip measured), each host's Kademlia id, and the
 * one-way latency between DCs from the scenario's links.
 */
import { createHash } from 'node:crypto'
import type { Snapshot } from '../../lib/model.ts'
import { generate, type ScenarioKind } from '../../lib/scenario.ts'
import { DIGEST_TOP_K } from '../../lib/wire/messages.ts'
import { LAN_LATENCY_MS } from './constants.ts'

/** Host capacity as a multiple of the fullest host's VMs (as the lab sim). */
const HOST_SLACK = 1.5

export interface WorldOptions {
  hosts: number
  dcs: number
  vmsPerHost: number
  seed: number
  kind?: ScenarioKind
}

export interface World {
  hostIds: string[]
  /** DC index of each host. */
  hostDc: Int32Array
  /** Host indices per DC. */
  dcHosts: number[][]
  kadIds: Uint8Array[]
  /** One-way latency between DCs, ms, [from * D + to]. */
  latencyMs: Float64Array
  dcCount: number
  /** The scenario with hosts replaced by ours; `vms[i].host` is kept current as moves land. */
  snapshot: Snapshot
  /** VMs per host, and distinct traffic peers per VM (at most DIGEST_TOP_K), for message sizes. */
  vmsOf: number[][]
  peersOfVm: Int32Array
}

export function sha256 (bytes: Uint8Array | string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(bytes).digest())
}

export function buildWorld (opts: WorldOptions): World {
  const dcCount = Math.min(opts.dcs, opts.hosts)
  const scenario = generate(opts.kind ?? 'thesis', { vms: opts.hosts * opts.vmsPerHost, dcs: dcCount, seed: opts.seed })
  const dcIndex = new Map(scenario.dcs.map((d, i) => [d.id, i]))
  const dcOfScenarioHost = new Map(scenario.hosts.map(h => [h.id, dcIndex.get(h.dc)!]))
  const hostIds: string[] = []
  const hostDc = new Int32Array(opts.hosts)
  const dcHosts: number[][] = scenario.dcs.map(() => [])
  for (let i = 0; i < opts.hosts; i++) {
    const d = i % dcCount
    hostIds.push(`${scenario.dcs[d]!.id}-a${dcHosts[d]!.length}`)
    hostDc[i] = d
    dcHosts[d]!.push(i)
  }
  const dealt = new Int32Array(dcCount)
  const vmsOf: number[][] = hostIds.map(() => [])
  const load = new Float64Array(opts.hosts)
  const cpus = new Float64Array(opts.hosts)
  const vms = scenario.vms.map((v, k) => {
    const d = dcOfScenarioHost.get(v.host)!
    const list = dcHosts[d]!
    const h = list[dealt[d]!++ % list.length]!
    vmsOf[h]!.push(k)
    load[h]! += v.memoryMiB
    cpus[h]! += v.vcpus
    return { ...v, host: hostIds[h]! }
  })
  const memoryMiB = Math.max(1024, Math.ceil(Math.max(...load) * HOST_SLACK / 1024) * 1024)
  const vcpus = Math.max(1, Math.ceil(Math.max(...cpus) * HOST_SLACK))
  const hosts = hostIds.map((id, i) => ({ id, dc: scenario.dcs[hostDc[i]!]!.id, memoryMiB, vcpus }))
  const snapshot: Snapshot = { ...scenario, hosts, vms }
  const latencyMs = new Float64Array(dcCount * dcCount).fill(LAN_LATENCY_MS)
  for (const l of scenario.links) latencyMs[dcIndex.get(l.from)! * dcCount + dcIndex.get(l.to)!] = l.latencyMs ?? 50
  return { hostIds, hostDc, dcHosts, kadIds: hostIds.map(h => sha256(h)), latencyMs, dcCount, snapshot, vmsOf, peersOfVm: peerCounts(snapshot) }
}

/** Distinct peers per VM, capped at the digest's top-K (one more for the remainder). */
function peerCounts (snap: Snapshot): Int32Array {
  const index = new Map(snap.vms.map((v, i) => [v.id, i]))
  const peers = snap.vms.map(() => new Set<string>())
  for (const f of snap.flows) {
    const a = index.get(f.src); const b = index.get(f.dst)
    if (a !== undefined) peers[a]!.add(f.dst)
    if (b !== undefined) peers[b]!.add(f.src)
  }
  return Int32Array.from(peers, p => Math.min(p.size, DIGEST_TOP_K + 1))
}

/** Moves a VM in the world (a migration that completed). */
export function moveVm (world: World, vm: string, to: number): void {
  const k = world.snapshot.vms.findIndex(v => v.id === vm)
  if (k < 0) return
  const from = world.hostIds.indexOf(world.snapshot.vms[k]!.host)
  world.snapshot.vms[k] = { ...world.snapshot.vms[k]!, host: world.hostIds[to]! }
  if (from >= 0) world.vmsOf[from] = world.vmsOf[from]!.filter(x => x !== k)
  world.vmsOf[to]!.push(k)
}
