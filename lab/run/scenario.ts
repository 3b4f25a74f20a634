/**
 * A lab scenario (lab/scenarios/*.json): a topology, VMs on hosts, traffic
 * in phases, chaos events, and how the agents are set up.
 *
 *   {
 *     "name": "thesis-star",
 *     "topology": "../topologies/star4.json",       relative to this file
 *     "roundPeriodMs": 4000, "durationSec": 75,
 *     "planner": { "name": "thesis", "maxMoves": 4 },
 *     "vms": [{ "id": "a1", "host": "dc0-h0", "memoryMiB": 512, "vcpus": 1, "group": "app-a" }],
 *     "phases": [{ "atSec": 0, "name": "day", "flows": [{ "src": "a1", "dst": "a2", "bps": 800000, "backBps": 400000 }] }],
 *     "events": [{ "atSec": 20, "action": "kill-agent", "host": "dc1-h0" }]
 *   }
 *
 * Time 0 is when the VMs start sending (the agents are up by then). A phase
 * replaces the whole traffic matrix; rates are bit/s at the IPv6 layer.
 * Events: kill-agent / restart-agent HOST, kill-planner (the agent that
 * ranks first for the next round is killed as that round starts),
 * restart-killed (every agent killed so far), cut-dc / restore-dc DC.
 */
import { readFile } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { Checker, join, type Json } from '../../lib/check.ts'
import { PLANNER_NAMES } from '../../lib/planners/index.ts'
import { labHosts, parseLabTopology, type LabTopology } from '../net/topology.ts'

export const EVENT_ACTIONS = ['kill-agent', 'restart-agent', 'kill-planner', 'restart-killed', 'cut-dc', 'restore-dc'] as const
export type EventAction = typeof EVENT_ACTIONS[number]

export const DEFAULT_ROUND_PERIOD_MS = 4_000
export const MIN_ROUND_PERIOD_MS = 1_000
export const MAX_DURATION_SEC = 1_800
export const MAX_VMS = 64

export interface ScenarioVm { id: string, host: string, memoryMiB: number, vcpus: number, group?: string }
export interface ScenarioFlow { src: string, dst: string, bps: number }
export interface ScenarioPhase { atSec: number, name: string, flows: ScenarioFlow[] }
export interface ScenarioEvent { atSec: number, action: EventAction, host?: string, dc?: string }

export interface Scenario {
  name: string
  description: string
  topologyFile: string
  topology: LabTopology
  roundPeriodMs: number
  durationSec: number
  planner: Record<string, Json>
  vms: ScenarioVm[]
  phases: ScenarioPhase[]
  events: ScenarioEvent[]
}

export async function loadScenario (path: string): Promise<Scenario> {
  const json = await readJsonFile(path, 'scenario')
  const o = (typeof json === 'object' && json !== null && !Array.isArray(json)) ? json as Record<string, Json> : {}
  const topologyFile = typeof o.topology === 'string' ? resolve(dirname(path), o.topology) : ''
  const topology = topologyFile === '' ? undefined : parseLabTopology(await readJsonFile(topologyFile, 'topology'))
  return parseScenario(json, topology, topologyFile)
}

async function readJsonFile (path: string, what: string): Promise<Json> {
  let text: string
  try { text = await readFile(path, 'utf8') } catch (err) { throw new Error(`cannot read the ${what} ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`) }
  try { return JSON.parse(text) } catch (err) { throw new Error(`the ${what} ${path} is not valid JSON: ${(err as Error).message}`) }
}

/** Validates a scenario against its (already validated) topology. */
export function parseScenario (input: Json, topology: LabTopology | undefined, topologyFile = ''): Scenario {
  const c = new Checker()
  const o = c.object('', input) ?? {}
  c.onlyKeys('', o, ['name', 'description', 'topology', 'roundPeriodMs', 'durationSec', 'planner', 'vms', 'phases', 'events'])
  if (topology === undefined) c.fail('topology', 'the path of a topology file, relative to the scenario', o.topology)
  const hosts = new Map((topology === undefined ? [] : labHosts(topology)).map(h => [h.id, h]))
  const dcs = new Set(topology?.dcs.map(d => d.id) ?? [])
  const externals = new Set(topology?.externals.map(e => e.id) ?? [])
  const name = c.string('name', o.name) ?? ''
  const description = o.description === undefined ? '' : c.string('description', o.description) ?? ''
  const roundPeriodMs = o.roundPeriodMs === undefined ? DEFAULT_ROUND_PERIOD_MS : c.number('roundPeriodMs', o.roundPeriodMs, { min: MIN_ROUND_PERIOD_MS, integer: true }) ?? DEFAULT_ROUND_PERIOD_MS
  const durationSec = c.number('durationSec', o.durationSec, { positive: true, max: MAX_DURATION_SEC }) ?? 60
  const planner = o.planner === undefined ? {} : c.object('planner', o.planner) ?? {}
  if (planner.name !== undefined) c.oneOf('planner.name', planner.name, PLANNER_NAMES)

  const vmsIn = c.array('vms', o.vms) ?? []
  if (vmsIn.length === 0 || vmsIn.length > MAX_VMS) c.fail('vms', `1 to ${MAX_VMS} VMs`, vmsIn)
  const vmIds = new Set<string>()
  const used = new Map<string, { mem: number, cpu: number }>()
  const vms: ScenarioVm[] = vmsIn.map((v, i) => {
    const p = join('vms', i)
    const r = c.object(p, v) ?? {}
    c.onlyKeys(p, r, ['id', 'host', 'memoryMiB', 'vcpus', 'group'])
    const id = c.string(join(p, 'id'), r.id) ?? ''
    if (id !== '' && !/^[a-z][a-z0-9-]{0,23}$/.test(id)) c.fail(join(p, 'id'), 'lower-case letters, digits and dashes, starting with a letter, at most 24', id)
    if (vmIds.has(id) || externals.has(id) || hosts.has(id)) c.fail(join(p, 'id'), 'an id not used by another VM, host or external', id)
    vmIds.add(id)
    const host = c.string(join(p, 'host'), r.host) ?? ''
    if (host !== '' && topology !== undefined && !hosts.has(host)) c.fail(join(p, 'host'), `a host of the topology (${[...hosts.keys()].join(', ')})`, host)
    const vm: ScenarioVm = {
      id,
      host,
      memoryMiB: c.number(join(p, 'memoryMiB'), r.memoryMiB, { positive: true }) ?? 0,
      vcpus: c.number(join(p, 'vcpus'), r.vcpus, { positive: true, integer: true }) ?? 0
    }
    if (r.group !== undefined) vm.group = c.string(join(p, 'group'), r.group) ?? ''
    const u = used.get(host) ?? { mem: 0, cpu: 0 }
    u.mem += vm.memoryMiB; u.cpu += vm.vcpus
    used.set(host, u)
    return vm
  })
  for (const [host, u] of used) {
    const h = hosts.get(host)
    if (h !== undefined && (u.mem > h.memoryMiB || u.cpu > h.vcpus)) c.fail('vms', `VMs that fit their host; ${host} has ${h.memoryMiB} MiB/${h.vcpus} vCPUs`, `${u.mem} MiB/${u.cpu} vCPUs placed on it`)
  }

  const endpoint = (path: string, v: Json): string => {
    const s = c.string(path, v) ?? ''
    if (s !== '' && !vmIds.has(s) && !externals.has(s)) c.fail(path, 'a VM id or an external id of the topology', s)
    return s
  }
  const phasesIn = c.array('phases', o.phases) ?? []
  if (phasesIn.length === 0) c.fail('phases', 'at least one phase', phasesIn)
  let lastAt = -1
  const phases: ScenarioPhase[] = phasesIn.map((ph, i) => {
    const p = join('phases', i)
    const r = c.object(p, ph) ?? {}
    c.onlyKeys(p, r, ['atSec', 'name', 'flows'])
    const atSec = c.number(join(p, 'atSec'), r.atSec, { min: 0 }) ?? 0
    if (i === 0 && atSec !== 0) c.fail(join(p, 'atSec'), '0 for the first phase', atSec)
    if (atSec <= lastAt) c.fail(join(p, 'atSec'), `a time after the previous phase (${lastAt})`, atSec)
    if (atSec >= durationSec) c.fail(join(p, 'atSec'), `a time before the end (${durationSec})`, atSec)
    lastAt = atSec
    const flows: ScenarioFlow[] = []
    ;(c.array(join(p, 'flows'), r.flows) ?? []).forEach((f, k) => {
      const fp = join(join(p, 'flows'), k)
      const fr = c.object(fp, f) ?? {}
      c.onlyKeys(fp, fr, ['src', 'dst', 'bps', 'backBps'])
      const src = endpoint(join(fp, 'src'), fr.src)
      const dst = endpoint(join(fp, 'dst'), fr.dst)
      if (src !== '' && src === dst) c.fail(fp, 'two different endpoints', src)
      if (externals.has(src) && externals.has(dst)) c.fail(fp, 'a VM at one end at least', `${src} -> ${dst}`)
      const bps = c.number(join(fp, 'bps'), fr.bps, { min: 0 }) ?? 0
      flows.push({ src, dst, bps })
      if (fr.backBps !== undefined) flows.push({ src: dst, dst: src, bps: c.number(join(fp, 'backBps'), fr.backBps, { min: 0 }) ?? 0 })
    })
    return { atSec, name: r.name === undefined ? `phase ${i + 1}` : c.string(join(p, 'name'), r.name) ?? '', flows }
  })

  const events: ScenarioEvent[] = (o.events === undefined ? [] : c.array('events', o.events) ?? []).map((e, i) => {
    const p = join('events', i)
    const r = c.object(p, e) ?? {}
    c.onlyKeys(p, r, ['atSec', 'action', 'host', 'dc'])
    const atSec = c.number(join(p, 'atSec'), r.atSec, { min: 0, max: durationSec }) ?? 0
    const action = c.oneOf(join(p, 'action'), r.action, EVENT_ACTIONS) ?? 'kill-agent'
    const ev: ScenarioEvent = { atSec, action }
    if (action === 'kill-agent' || action === 'restart-agent') {
      const host = c.string(join(p, 'host'), r.host) ?? ''
      if (host !== '' && topology !== undefined && !hosts.has(host)) c.fail(join(p, 'host'), 'a host of the topology', host)
      ev.host = host
    }
    if (action === 'cut-dc' || action === 'restore-dc') {
      const dc = c.string(join(p, 'dc'), r.dc) ?? ''
      if (dc !== '' && topology !== undefined && !dcs.has(dc)) c.fail(join(p, 'dc'), 'a DC of the topology', dc)
      ev.dc = dc
    }
    return ev
  }).sort((a, b) => a.atSec - b.atSec)
  c.done('scenario')
  return { name, description, topologyFile, topology: topology!, roundPeriodMs, durationSec, planner, vms, phases, events }
}
